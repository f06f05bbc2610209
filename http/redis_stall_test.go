package http

import (
	"fmt"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// With Redis paused (SIGSTOP), REST writes through a node answer without
// waiting on the publish, logins without waiting on the limiter, and once
// Redis continues every event reaches a WebSocket client on the other node
// in order, without a gap.
func TestStalledRedisDoesNotHoldRESTWritesAndLosesNoEvents(t *testing.T) {
	redisSrv := storetest.StartRedis(t)
	db := storetest.NewDB(t)
	prefix := "t" + storetest.RandomSuffix() + ":"
	a := startNode(t, db, redisSrv.URL(), prefix, "node-a")
	b := startNode(t, db, redisSrv.URL(), prefix, "node-b")
	date := futureDate(5)
	token, instructor, _ := a.bookableInstructor(db, date)
	_, _, email := a.registerEmail(market.RoleStudent)
	topic := market.AvailabilityTopic(instructor)

	watcher := dialWS(t, b.ws, nil)
	watcher.expect("welcome")
	watcher.subscribe(topic, -1)
	var snap struct {
		Seq int64 `json:"seq"`
	}
	if st := a.call("GET", "/api/v1/instructors/"+instructor+"/availability?from="+date+"&to="+date, "", nil, &snap); st != 200 {
		t.Fatalf("availability: %d", st)
	}

	redisSrv.Pause()
	paused := true
	t.Cleanup(func() {
		if paused {
			redisSrv.Resume()
		}
	})
	const writes = 8
	var slowest time.Duration
	for i := range writes {
		start := time.Now()
		st := a.call("POST", "/api/v1/instructors/me/availability", token, map[string]string{
			"date": date, "start": fmt.Sprintf("%02d:00", 13+i), "end": fmt.Sprintf("%02d:30", 13+i)}, nil)
		d := time.Since(start)
		if st != 201 {
			t.Fatalf("write %d during the stall: %d", i, st)
		}
		slowest = max(slowest, d)
	}
	loginStart := time.Now()
	if st := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "TestPassword123!"}, nil); st != 200 {
		t.Fatalf("login during the stall: %d", st)
	}
	loginTook := time.Since(loginStart)
	ticketStart := time.Now()
	st := a.call("POST", "/api/v1/ws/ticket", token, nil, nil)
	ticketTook := time.Since(ticketStart)
	t.Logf("during the stall: slowest write %v, login %v, ticket %v (%d)", slowest, loginTook, ticketTook, st)
	if slowest > 300*time.Millisecond {
		t.Errorf("a write took %v with Redis paused; the publish must not hold the response", slowest)
	}
	if loginTook > 500*time.Millisecond {
		t.Errorf("login took %v with Redis paused; the limiter's Redis calls must be bounded", loginTook)
	}
	if ticketTook > 500*time.Millisecond || st != 503 {
		t.Errorf("ticket during the stall: %d after %v, want a prompt 503", st, ticketTook)
	}

	time.Sleep(2 * time.Second) // a stall of a few seconds in all
	redisSrv.Resume()
	paused = false
	evs := watcher.events(topic, writes, 20*time.Second)
	assertSeqs(t, evs, snap.Seq+1, snap.Seq+writes)
	watcher.quiet(300 * time.Millisecond)
}
