package http

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"instainstru/market"
	"instainstru/store/storetest"
)

// keptUpgrade dials (keeping the socket open) and returns the HTTP status of a refused upgrade
// (0 when the socket opened; the client is then closed in cleanup).
func keptUpgrade(t *testing.T, url string, token string) int {
	t.Helper()
	h := bearer(token)
	if token == "" {
		h = nil
	}
	c, err := dialWSErr(url, h)
	if err == nil {
		t.Cleanup(func() { c.ws.CloseNow() }) //nolint:errcheck
		c.t = t
		c.expect("welcome")
		return 0
	}
	if strings.Contains(err.Error(), "429") {
		return 429
	}
	t.Fatalf("dial: %v", err)
	return -1
}

func TestWebSocketsArePerUserAndPerAddressCapped(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "caps", func(c *NodeConfig) {
		c.HTTP.Edge = EdgeLimits{WSPerUser: 3, WSPerAddress: 2, AnyAvailabilityTopic: true}
	})
	tok, uid := n.register(market.RoleStudent)
	var first *rtClient
	for i := range 3 {
		c := dialWS(t, n.ws, bearer(tok))
		c.expect("welcome")
		if i == 0 {
			first = c
		}
	}
	if st := keptUpgrade(t, n.ws, tok); st != 429 {
		t.Fatalf("4th socket of one user: %d, want 429", st)
	}
	// Anonymous sockets are counted by address, apart from the user's.
	for range 2 {
		if st := keptUpgrade(t, n.ws, ""); st != 0 {
			t.Fatalf("anonymous socket under the cap: %d", st)
		}
	}
	if st := keptUpgrade(t, n.ws, ""); st != 429 {
		t.Fatalf("3rd anonymous socket from one address: %d, want 429", st)
	}
	// Closing a socket gives its place back.
	first.ws.Close(websocket.StatusNormalClosure, "") //nolint:errcheck
	deadline := time.Now().Add(5 * time.Second)
	for n.srv.conns.open("u:"+uid) >= 3 {
		if time.Now().After(deadline) {
			t.Fatal("closed socket still counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := keptUpgrade(t, n.ws, tok); st != 0 {
		t.Fatalf("socket after one closed: %d, want it opened", st)
	}
}

func TestDistinctTopicsPerAddressAreCapped(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "topics", func(c *NodeConfig) {
		c.HTTP.Edge = EdgeLimits{WSTopicsPerAddress: 2, AnyAvailabilityTopic: true}
	})
	a, b := dialWS(t, n.ws, nil), dialWS(t, n.ws, nil)
	a.expect("welcome")
	b.expect("welcome")
	t1, t2, t3 := market.AvailabilityTopic(uuid.NewString()), market.AvailabilityTopic(uuid.NewString()), market.AvailabilityTopic(uuid.NewString())
	a.subscribe(t1, -1)
	b.subscribe(t2, -1)
	b.subscribe(t1, -1) // the same topic again is not a new one
	a.send(map[string]any{"type": "subscribe", "topic": t3})
	if f := a.next(frameWait); f.Type != "error" || f.Code != "too_many_topics" {
		t.Fatalf("third distinct topic from one address: %+v, want too_many_topics", f)
	}
	b.send(map[string]any{"type": "unsubscribe", "topic": t2})
	b.expect("ack")
	a.subscribe(t3, -1) // t2 is no longer watched from here
}

func TestUnknownInstructorTopicIsRefusedBeforeTheBrokerSubscribes(t *testing.T) {
	db := storetest.NewDB(t)
	url, prefix := storetest.SharedRedis(t)
	n := startNode(t, db, url, prefix, "gate", func(c *NodeConfig) { c.HTTP.Edge.AnyAvailabilityTopic = false })
	_, instructorID := n.register(market.RoleInstructor)
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	ghost := market.AvailabilityTopic(uuid.NewString())
	c.send(map[string]any{"type": "subscribe", "topic": ghost})
	if f := c.next(frameWait); f.Type != "error" || f.Code != "bad_topic" {
		t.Fatalf("topic of no instructor: %+v, want bad_topic", f)
	}
	real := market.AvailabilityTopic(instructorID)
	c.subscribe(real, -1)
	rdb := redis.NewClient(mustRedisOpts(t, url))
	defer rdb.Close()
	chans, err := rdb.PubSubChannels(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(chans, " ")
	if strings.Contains(joined, ghost) || !strings.Contains(joined, real) {
		t.Fatalf("Redis channels %v: want %s and not %s", chans, real, ghost)
	}
}

func mustRedisOpts(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
