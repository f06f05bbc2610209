package http

import (
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"testing"

	"instainstru/market"
	"instainstru/store/storetest"
)

// lockoutServer has the production password limits (10 failures a minute
// per account and address, 100 an hour per account) and takes the client
// address from X-Forwarded-For, so one test can speak from many addresses.
func lockoutServer(t *testing.T) *testServer {
	return newTestServer(t, func(c *Config, _ *Deps) {
		c.LoginFailuresPerAccountPerMinute = 10
		c.LoginFailuresPerAccountPerHour = 100
		c.TrustedProxies = []string{"0.0.0.0/0", "::/0"}
		c.ResetRequestFloor = -1
	})
}

// passwordCall sends method path with body from ip, with cookie (may be
// "") and token (may be ""); it returns the status and the response.
func passwordCall(ts *testServer, method, path, ip, cookie, token string, body any) (int, *nethttp.Response) {
	ts.t.Helper()
	b, _ := json.Marshal(body)
	req := newReq(ts.t, method, path, b)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, _ := ts.send(req)
	return resp.StatusCode, resp
}

// deviceCookieFrom returns "name=value" of the device cookie resp set.
func deviceCookieFrom(t *testing.T, resp *nethttp.Response) string {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == deviceCookieName {
			if !c.HttpOnly || c.SameSite != nethttp.SameSiteStrictMode || c.Path != "/api/v1" {
				t.Fatalf("device cookie attributes: %+v", c)
			}
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no %s cookie on a successful sign-in; Set-Cookie: %v", deviceCookieName, resp.Header.Values("Set-Cookie"))
	return ""
}

// spray sends perAddr wrong passwords for email from each of addrs.
func spray(ts *testServer, email string, addrs, perAddr int) (statuses map[int]int) {
	statuses = map[int]int{}
	for a := range addrs {
		ip := fmt.Sprintf("203.0.113.%d", a+1)
		for range perAddr {
			st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", ip, "", "", map[string]string{"email": email, "password": "WrongGuess123!"})
			statuses[st]++
		}
	}
	return statuses
}

func TestSprayedAccountOwnerSignsInWithDeviceCookie(t *testing.T) {
	ts := lockoutServer(t)
	_, u := ts.signUp(market.RoleStudent)
	login := map[string]string{"email": u.Email, "password": testPassword}
	st, resp := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", "", "", login)
	if st != 200 {
		t.Fatalf("first sign-in: %d", st)
	}
	cookie := deviceCookieFrom(t, resp)

	got := spray(ts, u.Email, 12, 10) // 120 wrong passwords from 12 addresses
	if got[429] == 0 {
		t.Fatalf("spray statuses %v: strangers were never slowed", got)
	}
	// A stranger (no device cookie) is locked out, even with the password.
	if st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", "192.0.2.9", "", "", login); st != 429 {
		t.Fatalf("right password without a device cookie after the spray: %d, want 429", st)
	}
	// The owner's browser is not.
	if st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", cookie, "", login); st != 200 {
		t.Fatalf("owner with device cookie after the spray: %d, want 200", st)
	}
	// A device cookie is bound to its account: it does not lift another's limits.
	_, other := ts.signUp(market.RoleStudent)
	spray(ts, other.Email, 11, 10)
	if st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", cookie, "", map[string]string{"email": other.Email, "password": testPassword}); st != 429 {
		t.Fatalf("u's cookie for another sprayed account: %d, want 429", st)
	}
	// A forged cookie counts as none.
	forged := cookie[:len(cookie)-4] + "AAAA"
	if st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.8", forged, "", login); st != 429 {
		t.Fatalf("forged device cookie: %d, want 429", st)
	}
}

func TestDeviceCookieStillLimitsGuessesFromThatDevice(t *testing.T) {
	ts := lockoutServer(t)
	_, u := ts.signUp(market.RoleStudent)
	_, resp := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", "", "", map[string]string{"email": u.Email, "password": testPassword})
	cookie := deviceCookieFrom(t, resp)
	codes := map[int]int{}
	for range 12 {
		st, _ := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", cookie, "", map[string]string{"email": u.Email, "password": "WrongGuess123!"})
		codes[st]++
	}
	if codes[401] != 10 || codes[429] != 2 {
		t.Fatalf("12 wrong passwords with a device cookie: %v, want 10×401 then 429", codes)
	}
}

func TestDeleteMeSharesTheLoginLimits(t *testing.T) {
	ts := lockoutServer(t)
	tok, _ := ts.signUp(market.RoleStudent)
	codes := map[int]int{}
	for range 30 {
		st, _ := passwordCall(ts, "DELETE", "/api/v1/me", "203.0.113.50", "", tok, map[string]string{"password": "WrongGuess123!"})
		codes[st]++
	}
	if codes[429] == 0 || codes[422] > 10 {
		t.Fatalf("30 wrong passwords on DELETE /me: %v, want at most 10 checked, then 429", codes)
	}
}

func TestPasswordResetRequestsNeverLockTheOwnerOut(t *testing.T) {
	ts := lockoutServer(t)
	_, u := ts.signUp(market.RoleStudent)
	body := map[string]string{"email": u.Email}
	for i := range 8 { // past the 5 an hour per address
		if st, resp := passwordCall(ts, "POST", "/api/v1/auth/password-reset", fmt.Sprintf("203.0.113.%d", i+1), "", "", body); st != 202 || resp.Header.Get("Retry-After") != "" {
			t.Fatalf("reset request %d from a stranger: %d, want the same 202 every time", i+1, st)
		}
	}
	links := countResetTokens(t, ts, u.ID)
	if links.issued != 5 {
		t.Fatalf("%d reset links made for 8 requests, want 5 (the per-address limit)", links.issued)
	}
	// The owner's browser still gets a new link.
	_, resp := passwordCall(ts, "POST", "/api/v1/auth/login", "198.51.100.7", "", "", map[string]string{"email": u.Email, "password": testPassword})
	cookie := deviceCookieFrom(t, resp)
	if st, _ := passwordCall(ts, "POST", "/api/v1/auth/password-reset", "198.51.100.7", cookie, "", body); st != 202 {
		t.Fatalf("owner's reset request: %d", st)
	}
	if got := countResetTokens(t, ts, u.ID); got.issued != 6 {
		t.Fatalf("owner's request made no link (%d links)", got.issued)
	}
}

type tokenCounts struct{ issued int }

// countResetTokens counts the reset requests audited for userID that made
// a link (the store writes one audit row per link it makes).
func countResetTokens(t *testing.T, ts *testServer, userID string) tokenCounts {
	t.Helper()
	var n int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND target_user_id = $2`,
		market.AuditPasswordResetAsk, userID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return tokenCounts{issued: n}
}
