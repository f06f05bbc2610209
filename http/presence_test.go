package http

import (
	"fmt"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store/storetest"
)

// presenceWait bounds waits for a presence count: a change is pushed at
// the next sync of each node (1 s), a dead node stops counting after its
// TTL (3 s); the rest is slack for a busy machine.
const presenceWait = 15 * time.Second

// watching reads c's frames until a presence frame for topic says n, and
// returns when it came.
func (c *rtClient) watching(topic string, n int) time.Time {
	c.t.Helper()
	fs := c.until(presenceWait, "presence "+topic+" watching "+itoa(n), func(fs []rtFrame) bool {
		return len(fs) > 0 && isPresence(fs[len(fs)-1], topic, n)
	})
	f := fs[len(fs)-1]
	if f.Seq != 0 || f.Event != "" {
		c.t.Fatalf("presence frame carries stream fields: %s", f.Raw)
	}
	return f.received
}

func isPresence(f rtFrame, topic string, n int) bool {
	return f.Type == "presence" && f.Topic == topic && f.Watching != nil && *f.Watching == n
}

func itoa(n int) string { return jsonInt(n) }

// watch opens a connection on node and subscribes it to topic.
func watch(t *testing.T, n *rtNode, token, topic string) *rtClient {
	t.Helper()
	var c *rtClient
	if token == "" {
		c = dialWS(t, n.ws, nil)
	} else {
		c = dialWS(t, n.ws, bearer(token))
	}
	c.expect("welcome")
	c.subscribe(topic, -1)
	return c
}

// isOnline polls GET /instructors/{id} on n until "online" is want.
func isOnline(t *testing.T, n *rtNode, id string, want bool) {
	t.Helper()
	eventually.True(t, presenceWait, fmt.Sprintf("online = %v", want), func() bool {
		var got struct {
			Online *bool `json:"online"`
		}
		if st := n.call("GET", "/api/v1/instructors/"+id, "", nil, &got); st != 200 || got.Online == nil {
			t.Fatalf("GET instructor: %d, online %v", st, got.Online)
		}
		return *got.Online == want
	})
}

// Viewers are counted across two nodes: a signed-in user once however many
// tabs, anonymous connections each, the instructor not at all; the count
// rises and falls on both nodes, and when a node dies without cleaning up
// its viewers stop counting within seconds.
func TestPresenceRisesAndFallsAcrossNodesAndSurvivesADeadNode(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	db := storetest.NewDB(t)
	a, b := startNode(t, db, url, prefix, "node-a"), startNode(t, db, url, prefix, "node-b")
	date := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	insTok, insID, _ := a.bookableInstructor(db, date)
	topic := market.AvailabilityTopic(insID)
	s1Tok, _ := a.register(market.RoleStudent)
	s2Tok, _ := a.register(market.RoleStudent)

	s1 := watch(t, a, s1Tok, topic)
	s1.watching(topic, 1)
	s2 := watch(t, b, s2Tok, topic)
	s1.watching(topic, 2)
	s2.watching(topic, 2)
	anon := watch(t, b, "", topic)
	for _, c := range []*rtClient{s1, s2, anon} {
		c.watching(topic, 3)
	}
	// s1's second tab and the instructor change nothing, but are told.
	s1tab := watch(t, b, s1Tok, topic)
	s1tab.watching(topic, 3)
	ins := watch(t, a, insTok, topic)
	ins.watching(topic, 3)

	s2.send(map[string]any{"type": "unsubscribe", "topic": topic})
	for _, c := range []*rtClient{s1, s1tab, anon, ins} {
		c.watching(topic, 2)
	}
	// node-b dies: its Redis client goes, so it can neither sync nor clean
	// up. Its viewers (the anonymous one; s1's tab there) stop counting
	// once its TTL has passed: s1 on node-a is all that is left.
	killed := time.Now()
	b.node.Redis.Close() //nolint:errcheck
	recovered := s1.watching(topic, 1)
	t.Logf("count recovered %v after node-b died", recovered.Sub(killed).Round(10*time.Millisecond))
	if d := recovered.Sub(killed); d > 8*time.Second {
		t.Fatalf("a dead node counted for %v", d)
	}
}

// "online" is true while the instructor has a connection on any node.
func TestInstructorIsOnlineWhileConnectedOnAnyNode(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	db := storetest.NewDB(t)
	a, b := startNode(t, db, url, prefix, "node-a"), startNode(t, db, url, prefix, "node-b")
	insTok, insID, _ := a.bookableInstructor(db, time.Now().AddDate(0, 0, 3).Format(time.DateOnly))
	isOnline(t, a, insID, false)
	c := dialWS(t, b.ws, bearer(insTok))
	c.expect("welcome")
	isOnline(t, a, insID, true)
	c.ws.CloseNow() //nolint:errcheck
	isOnline(t, a, insID, false)
}

// On one node with the in-process broker, presence works the same.
func TestPresenceAndOnlineOnASingleNode(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	insTok, insID, _ := n.bookableInstructor(db, time.Now().AddDate(0, 0, 3).Format(time.DateOnly))
	topic := market.AvailabilityTopic(insID)
	x := watch(t, n, "", topic)
	x.watching(topic, 1)
	y := watch(t, n, "", topic)
	x.watching(topic, 2)
	y.watching(topic, 2)
	y.ws.CloseNow() //nolint:errcheck
	x.watching(topic, 1)
	ins := dialWS(t, n.ws, bearer(insTok))
	ins.expect("welcome")
	isOnline(t, n, insID, true)
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Online bool   `json:"online"`
		} `json:"items"`
	}
	if st := n.call("GET", "/api/v1/instructors?limit=100", "", nil, &list); st != 200 {
		t.Fatalf("list: %d", st)
	}
	listed := false
	for _, it := range list.Items {
		listed = listed || (it.ID == insID && it.Online)
	}
	if !listed {
		t.Fatalf("the instructor list does not show %s online: %+v", insID, list.Items)
	}
}

// Under churn each connection gets at most one presence frame per second:
// viewers come and go as fast as they can for a while, and the frames a
// watcher receives are counted and their spacing measured.
func TestPresenceFramesAreCoalescedUnderChurn(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	_, insID, _ := n.bookableInstructor(db, time.Now().AddDate(0, 0, 3).Format(time.DateOnly))
	topic := market.AvailabilityTopic(insID)
	w := watch(t, n, "", topic)
	w.watching(topic, 1)
	// Four churners toggling in turn, 50 toggles a second in all, each
	// within its connection's frame budget (20/s).
	var churners []*rtClient
	for range 4 {
		c := dialWS(t, n.ws, nil)
		c.expect("welcome")
		churners = append(churners, c)
	}
	const window, drainFor = 3500 * time.Millisecond, 1500 * time.Millisecond
	pace := time.NewTicker(20 * time.Millisecond)
	defer pace.Stop()
	start := time.Now()
	toggles := 0
	for time.Since(start) < window {
		<-pace.C
		typ := "subscribe"
		if (toggles/len(churners))%2 == 1 {
			typ = "unsubscribe"
		}
		churners[toggles%len(churners)].send(map[string]any{"type": typ, "topic": topic})
		toggles++
	}
	var times []time.Time
	drain := time.After(drainFor) // the last sync's push
	for done := false; !done; {
		select {
		case f := <-w.frames:
			if f.Type == "presence" && f.received.After(start) {
				times = append(times, f.received)
			}
		case <-drain:
			done = true
		}
	}
	minGap := time.Hour
	for i := 1; i < len(times); i++ {
		minGap = min(minGap, times[i].Sub(times[i-1]))
	}
	t.Logf("%d subscribe/unsubscribe toggles in %v; the watcher got %d presence frames, closest %v apart",
		toggles, window, len(times), minGap)
	if len(times) < 2 {
		t.Fatalf("the watcher saw %d presence frames: the churn never showed", len(times))
	}
	if toggles < 20 {
		t.Fatalf("only %d toggles: no churn to coalesce", toggles)
	}
	if limit := int((window+drainFor)/time.Second) + 1; len(times) > limit {
		t.Fatalf("%d presence frames in %v, want at most %d (one per sync)", len(times), window+drainFor, limit)
	}
	if len(times) > 1 && minGap < 500*time.Millisecond {
		t.Fatalf("two presence frames %v apart, want about a second", minGap)
	}
}
