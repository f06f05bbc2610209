package http

import (
	"context"
	"fmt"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"instainstru/hub"
	"instainstru/market"
	"instainstru/store/storetest"
)

// issueTicketFor asks node n for a WebSocket ticket with token.
func issueTicketFor(t *testing.T, n *rtNode, token string) string {
	t.Helper()
	var tk struct {
		Ticket string `json:"ticket"`
	}
	if st := n.call("POST", "/api/v1/ws/ticket", token, nil, &tk); st != 201 || tk.Ticket == "" {
		t.Fatalf("ticket: %d", st)
	}
	return tk.Ticket
}

// upgradeStatus dials url and returns the HTTP status of a refused upgrade
// (101 when it opened).
func upgradeStatus(t *testing.T, url string, header nethttp.Header) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		ws.CloseNow() //nolint:errcheck
		return nethttp.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestWebSocketUpgradeChecksTheLiveUserAndTheRealtimePermission(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	ctx := context.Background()

	t.Run("a ticket issued before the user was deleted is refused", func(t *testing.T) {
		token, uid := n.register(market.RoleStudent)
		ticket := issueTicketFor(t, n, token)
		if _, err := storetest.Pool(db).Exec(ctx, `UPDATE users SET deleted_at = now() WHERE id = $1`, uid); err != nil {
			t.Fatal(err)
		}
		if st := upgradeStatus(t, n.ws+"?ticket="+ticket, nil); st != nethttp.StatusUnauthorized {
			t.Fatalf("upgrade with a dead user's ticket: %d, want 401", st)
		}
	})
	t.Run("a ticket whose user lost realtime:subscribe is refused", func(t *testing.T) {
		token, uid := n.register(market.RoleStudent)
		ticket := issueTicketFor(t, n, token)
		if _, err := storetest.Pool(db).Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1`, uid); err != nil {
			t.Fatal(err)
		}
		if st := upgradeStatus(t, n.ws+"?ticket="+ticket, nil); st != nethttp.StatusForbidden {
			t.Fatalf("upgrade: %d, want 403", st)
		}
	})
	t.Run("a bearer token without realtime:subscribe is refused like a ticket", func(t *testing.T) {
		token, uid := n.register(market.RoleStudent)
		if _, err := storetest.Pool(db).Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1`, uid); err != nil {
			t.Fatal(err)
		}
		if st := upgradeStatus(t, n.ws, bearer(token)); st != nethttp.StatusForbidden {
			t.Fatalf("bearer upgrade: %d, want 403", st)
		}
	})
	t.Run("a live user with the permission still connects both ways", func(t *testing.T) {
		token, uid := n.register(market.RoleStudent)
		for _, c := range []*rtClient{dialWS(t, n.ws, bearer(token)), dialWS(t, n.ws+"?ticket="+issueTicketFor(t, n, token), nil)} {
			if w := c.expect("welcome"); w.UserID == nil || *w.UserID != uid {
				t.Fatalf("welcome %+v", w)
			}
		}
	})
}

func TestPingControlFramesCountTowardTheMessageLimit(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo") // default limits: 20/s
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	pongs := 0
	for range 3000 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			break
		}
		pongs++
	}
	if code := c.closeStatus(5 * time.Second); code != hub.StatusTooManyFrames {
		t.Fatalf("close code %d after %d pongs, want 4029", code, pongs)
	}
	if pongs > 200 {
		t.Fatalf("%d pings were answered before the flood was closed", pongs)
	}
}

func TestSubscribeBurstCoversTheAllowedSubscriptions(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo") // 100 subscriptions, 20 frames/s
	token, _ := n.register(market.RoleStudent)
	c := dialWS(t, n.ws, bearer(token))
	c.expect("welcome")
	// The private topic is one of the 100: 99 more at once, as a page that
	// restores its subscriptions after a reconnect does.
	for range 99 {
		c.send(map[string]any{"type": "subscribe", "topic": market.AvailabilityTopic(uuid.NewString())})
	}
	for acks := 0; acks < 99; {
		f := c.next(frameWait)
		switch f.Type {
		case "ack":
			acks++
		case "error":
			t.Fatalf("after %d acks: error %s", acks, f.Code)
		}
	}
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
}

func TestAvailabilityTopicsMustBeCanonicalLowerCaseUUIDs(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	id := uuid.NewString()
	tests := []struct {
		name  string
		topic string
		want  string // ack or the error code
	}{
		{"canonical lower case", "availability:" + id, "ack"},
		{"upper case", "availability:" + strings.ToUpper(id), "bad_topic"},
		{"urn:uuid: form", "availability:urn:uuid:" + id, "bad_topic"},
		{"braces", "availability:{" + id + "}", "bad_topic"},
		{"no hyphens", "availability:" + strings.ReplaceAll(id, "-", ""), "bad_topic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			sent := c.send(map[string]any{"type": "subscribe", "topic": tc.topic})
			f := c.next(frameWait)
			got := f.Type
			if f.Type == "error" {
				got = f.Code
				if !strings.Contains(f.Msg, "lower-case UUID") {
					t.Errorf("error message %q does not say what is expected", f.Msg)
				}
			}
			if got != tc.want || string(f.ID) != fmt.Sprint(sent) {
				t.Fatalf("got %s (id %s), want %s", got, f.ID, tc.want)
			}
		})
	}
}

func TestAPIResponsesCarryNosniffAndCredentialsAreNotCached(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	access, _, u := ts.signUpFull(market.RoleStudent)
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		noStore                   bool
	}{
		{"a JSON read", "GET", "/api/v1/categories", "", nil, 200, false},
		{"an error body", "GET", "/api/v1/bookings/not-a-uuid", access, nil, 404, true},
		{"who am I", "GET", "/api/v1/auth/me", access, nil, 200, true},
		{"a token response", "POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}, 200, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.sub(t).do(tc.method, tc.path, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if tc.noStore && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
}
