package http

import (
	"net"
	nethttp "net/http"
	"testing"

	"github.com/valyala/fasthttp"

	"instainstru/market"
)

func TestClientIPIsTheRightMostAddressThatIsNotATrustedProxy(t *testing.T) {
	s := &Server{}
	s.proxies, _ = parseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	tests := []struct {
		name string
		peer string
		xff  []string // one entry per header line
		want string
	}{
		{"untrusted peer: its header is ignored", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer without the header is the client", "10.1.1.1", nil, "10.1.1.1"},
		{"trusted peer: the address it appended", "10.1.1.1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-written left part is not believed", "10.1.1.1", []string{"10.9.9.3, 203.0.113.7"}, "203.0.113.7"},
		{"a chain of trusted proxies is skipped", "10.1.1.1", []string{"198.51.100.4, 203.0.113.7, 192.0.2.1, 10.2.2.2"}, "203.0.113.7"},
		{"several header lines read as one list", "10.1.1.1", []string{"198.51.100.4", "203.0.113.7"}, "203.0.113.7"},
		{"only trusted hops: the left-most one", "10.1.1.1", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage stops at the last trusted hop", "10.1.1.1", []string{"203.0.113.7, not-an-ip, 10.2.2.2"}, "10.2.2.2"},
		{"IPv4-mapped IPv6 peer is matched", "::ffff:10.1.1.1", []string{"203.0.113.7"}, "203.0.113.7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			var rc fasthttp.RequestCtx
			rc.Init(&req, &net.TCPAddr{IP: net.ParseIP(tc.peer), Port: 5000}, nil)
			app := New(Config{Env: "test", JWTSecret: testJWTSecret}, Deps{})
			c := app.App().AcquireCtx(&rc)
			defer app.App().ReleaseCtx(c)
			if got := s.clientIP(c); got != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

// A client behind the trusted load balancer cannot get a fresh per-IP
// bucket by writing its own X-Forwarded-For (the probe).
func TestPerIPLimitIgnoresClientWrittenForwardedFor(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) {
		c.LoginPerIPPerMinute = 3
		c.TrustedProxies = []string{"0.0.0.0/32"} // app.Test's peer plays the load balancer
	})
	login := func(xff string) int {
		req := newReq(t, "POST", "/api/v1/auth/login", []byte(`{"email":"nobody@example.com","password":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		resp, _ := ts.send(req)
		return resp.StatusCode
	}
	for i := range 3 {
		if code := login("10.9.9." + string(rune('1'+i)) + ", 203.0.113.7"); code != 401 {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if code := login("10.9.9.9, 203.0.113.7"); code != 429 {
		t.Fatalf("4th attempt from 203.0.113.7 with a new left part: %d, want 429", code)
	}
	if code := login("203.0.113.8"); code != 401 {
		t.Fatalf("another client: %d, want its own bucket", code)
	}
}

// An attacker's wrong passwords lock the account for the attacker's IP only;
// a slower per-account ceiling over every IP still bounds a spread attack.
func TestLoginFailuresLockTheAttackersIPNotTheOwner(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) {
		c.LoginFailuresPerAccountPerMinute = 10
		c.LoginFailuresPerAccountPerHour = 25
		c.TrustedProxies = []string{"0.0.0.0/32"}
	})
	_, _, victim := ts.signUpFull(market.RoleStudent)
	login := func(ip, pw string) int {
		req := newReq(t, "POST", "/api/v1/auth/login", []byte(`{"email":"`+victim.Email+`","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		resp, _ := ts.send(req)
		return resp.StatusCode
	}
	for i := range 10 {
		if code := login("198.51.100.1", "wrong-password"); code != nethttp.StatusUnauthorized {
			t.Fatalf("attacker failure %d: %d", i, code)
		}
	}
	if code := login("198.51.100.1", testPassword); code != nethttp.StatusTooManyRequests {
		t.Fatalf("attacker IP after 10 failures: %d, want 429", code)
	}
	if code := login("203.0.113.50", testPassword); code != nethttp.StatusOK {
		t.Fatalf("owner from another IP after the attacker's 10 failures: %d, want 200", code)
	}

	// Spread over many IPs, the per-account ceiling (25 here) takes over.
	for i := range 15 {
		ip := net.IPv4(198, 51, 100, byte(10+i)).String()
		if code := login(ip, "wrong-password"); code != nethttp.StatusUnauthorized {
			t.Fatalf("spread failure %d: %d", i, code)
		}
	}
	if code := login("203.0.113.51", testPassword); code != nethttp.StatusTooManyRequests {
		t.Fatalf("after 25 failures from many IPs: %d, want the per-account ceiling's 429", code)
	}
}

// The audit trail records the same client address the rate limits key on:
// behind the trusted load balancer, the forwarded client, not the balancer.
func TestAuditRecordsTheForwardedClientAddress(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) {
		c.TrustedProxies = []string{"0.0.0.0/32"} // app.Test's peer plays the load balancer
	})
	req := newReq(t, "POST", "/api/v1/auth/login", []byte(`{"email":"nobody@example.com","password":"wrong-password"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "10.9.9.3, 203.0.113.7")
	if resp, body := ts.send(req); resp.StatusCode != 401 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	entries, _, err := ts.db.AuditEntries(t.Context(), market.AuditQuery{Action: market.AuditLoginFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].IP != "203.0.113.7" {
		t.Fatalf("audit entries %+v, want one from 203.0.113.7", entries)
	}
}
