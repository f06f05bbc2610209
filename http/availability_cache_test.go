package http

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// getRaw GETs path from base without a testing.TB, so reader
// goroutines can use it; it returns the status and the raw body.
func getRaw(base, path string) (int, []byte, error) {
	resp, err := nethttp.Get(base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// truthJSON is the uncached answer of the database now, in the GET shape.
func truthJSON(t *testing.T, db *store.DB, id, from, to string) (int, string) {
	t.Helper()
	a, err := db.Availability(context.Background(), id, from, to)
	if market.ErrorCode(err) == market.ENOTFOUND {
		return 404, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(newAvailabilityResponse(a))
	return 200, string(b)
}

func daysJSON(days []dayResponse) string {
	b, _ := json.Marshal(days)
	return string(b)
}

func cacheHits(nodes ...*rtNode) int64 {
	var n int64
	for _, nd := range nodes {
		n += nd.srv.availability.hits.Load()
	}
	return n
}

// futureMonday is a Monday at least two weeks ahead, as YYYY-MM-DD.
func futureMonday() time.Time {
	d := time.Now().UTC().AddDate(0, 0, 14)
	return time.Date(d.Year(), d.Month(), d.Day()-(int(d.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
}

// A writer replaces the week 40 times through both nodes while readers on
// both nodes GET it (mostly from the caches) and some of them subscribe
// since the seq they read. Every snapshot must be exactly the week as it
// stood at its seq (the writer's own responses say what that was), and
// every subscriber must get exactly seqs snapshot+1..final and, applying
// them, end at the database's final open time.
func TestCachedAvailabilitySnapshotsAreExactAndResumeWithoutGapsUnderConcurrentWrites(t *testing.T) {
	db := storetest.NewDB(t)
	url, prefix := storetest.SharedRedis(t)
	nodes := []*rtNode{startNode(t, db, url, prefix, "node-a"), startNode(t, db, url, prefix, "node-b")}
	token, id := nodes[0].register(market.RoleInstructor)
	mon := futureMonday()
	from, to := mon.Format(time.DateOnly), mon.AddDate(0, 0, 6).Format(time.DateOnly)
	path := fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", id, from, to)
	topic := market.AvailabilityTopic(id)

	var mu sync.Mutex
	weekAt := map[int64]string{} // seq → days, as committed
	_, first := truthJSON(t, db, id, from, to)
	var a0 availabilityResponse
	mustJSON(t, []byte(first), &a0)
	weekAt[a0.Seq] = daysJSON(a0.Days)

	const writes = 40
	writerErr := make(chan error, 1)
	go func() {
		for i := 0; i < writes; i++ {
			// Each write moves the week's only window to another day, so
			// every write changes something and appends exactly one event.
			start := market.Clock(8*60 + (i%8)*15)
			body, _ := json.Marshal(weekRequest{WeekStart: from, Days: []weekDayRequest{{
				Date:    mon.AddDate(0, 0, i%7).Format(time.DateOnly),
				Windows: []intervalRequest{{Start: start.String(), End: "12:00"}},
			}}})
			req, _ := nethttp.NewRequest("PUT", nodes[i%2].base+"/api/v1/instructors/me/availability/week", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := nethttp.DefaultClient.Do(req)
			if err != nil {
				writerErr <- err
				return
			}
			var week availabilityResponse
			err = json.NewDecoder(resp.Body).Decode(&week)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				writerErr <- fmt.Errorf("write %d: status %d, %v", i, resp.StatusCode, err)
				return
			}
			mu.Lock()
			weekAt[week.Seq] = daysJSON(week.Days)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // pacing: reads interleave with the writers
		}
		writerErr <- nil
	}()

	type snapshot struct {
		seq  int64
		days []dayResponse
	}
	writing := make(chan struct{})
	var readers sync.WaitGroup
	var snapMu sync.Mutex
	var snaps []snapshot
	var readErrs []error
	record := func(status int, body []byte, err error) *availabilityResponse {
		snapMu.Lock()
		defer snapMu.Unlock()
		var a availabilityResponse
		if err == nil && status != 200 {
			err = fmt.Errorf("GET availability: %d %s", status, body)
		}
		if err == nil {
			err = json.Unmarshal(body, &a)
		}
		if err != nil {
			readErrs = append(readErrs, err)
			return nil
		}
		snaps = append(snaps, snapshot{a.Seq, a.Days})
		return &a
	}
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-writing:
					return
				default:
				}
				record(getRaw(nodes[(r+i)%2].base, path))
			}
		}()
	}

	type sub struct {
		c    *rtClient
		snap availabilityResponse
		evs  []rtFrame
	}
	var subs []sub
	var werr error
	for done := false; !done; {
		select {
		case werr = <-writerErr:
			done = true
		case <-time.After(15 * time.Millisecond):
			n := nodes[len(subs)%2]
			a := record(getRaw(n.base, path))
			if a == nil || len(subs) >= 16 {
				continue
			}
			c := dialWS(t, nodes[(len(subs)+1)%2].ws, nil) // resume on the other node
			c.expect("welcome")
			replay, _ := c.subscribe(topic, a.Seq)
			subs = append(subs, sub{c: c, snap: *a, evs: replay})
		}
	}
	close(writing)
	readers.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	if len(readErrs) > 0 {
		t.Fatalf("%d reads failed, first: %v", len(readErrs), readErrs[0])
	}
	final, err := db.TopicSeq(context.Background(), topic)
	if err != nil || final != a0.Seq+writes {
		t.Fatalf("final seq %d (%v), want %d", final, err, a0.Seq+writes)
	}
	_, truth := truthJSON(t, db, id, from, to)
	var want availabilityResponse
	mustJSON(t, []byte(truth), &want)

	for _, s := range snaps {
		if got, ok := weekAt[s.seq]; !ok || got != daysJSON(s.days) {
			t.Fatalf("snapshot at seq %d is not the week committed at that seq:\n got %s\nwant %s", s.seq, daysJSON(s.days), got)
		}
	}
	if len(subs) < 4 {
		t.Fatalf("only %d subscriptions happened during the writes", len(subs))
	}
	for i, s := range subs {
		if missing := int(final-s.snap.Seq) - len(s.evs); missing > 0 {
			s.evs = append(s.evs, s.c.events(topic, missing, 10*time.Second)...)
		}
		assertSeqs(t, s.evs, s.snap.Seq+1, final)
		open := map[string][]market.Interval{}
		for _, d := range s.snap.Days {
			open[d.Date] = d.Open
		}
		for _, e := range s.evs {
			var ch market.AvailabilityChanged
			mustJSON(t, e.Data, &ch)
			for _, d := range ch.Days {
				open[d.Date] = d.Open
			}
		}
		for _, d := range want.Days {
			if got, _ := json.Marshal(open[d.Date]); string(got) != mustMarshal(d.Open) {
				t.Fatalf("subscriber %d (snapshot seq %d) ends with %s open on %s, the database has %s", i, s.snap.Seq, got, d.Date, mustMarshal(d.Open))
			}
		}
		s.c.quiet(20 * time.Millisecond)
	}
	if hits := cacheHits(nodes...); hits == 0 {
		t.Fatalf("no read was served from a cache (%d snapshots): the test proved nothing about it", len(snaps))
	}
	t.Logf("%d snapshots, %d cache hits, %d subscribers, final seq %d", len(snaps), cacheHits(nodes...), len(subs), final)
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Two nodes with separate in-process brokers: node b never receives the
// events of node a's writes, and nothing is published for writes made
// straight through the store. Still, once a change has committed, the next
// GET on either node returns exactly what the database holds (staleness
// bound: zero), though both nodes had that range cached.
func TestCachedAvailabilityIsNeverStaleOnceAChangeHasCommitted(t *testing.T) {
	db := storetest.NewDB(t)
	a := startNode(t, db, "", "", "node-a")
	b := startNode(t, db, "", "", "node-b")
	date := time.Now().UTC().AddDate(0, 0, 21).Format(time.DateOnly)
	itok, id, offer := a.bookableInstructor(db, date)
	student, _ := a.register(market.RoleStudent)
	path := fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", id, date, date)
	ctx := context.Background()
	var bookingID string
	windowAt := func(start string) string {
		var av availabilityResponse
		a.call("GET", path, "", nil, &av)
		for _, w := range av.Days[0].Windows {
			if w.Start == start {
				return w.ID
			}
		}
		t.Fatalf("no window at %s", start)
		return ""
	}

	steps := []struct {
		name   string
		change func()
	}{
		{"window added through node a", func() {
			if st := a.call("POST", "/api/v1/instructors/me/availability", itok,
				map[string]string{"date": date, "start": "13:00", "end": "15:00"}, nil); st != 201 {
				t.Fatalf("add window: %d", st)
			}
		}},
		{"booking made through node a", func() {
			var bk map[string]any
			if st := a.call("POST", "/api/v1/bookings", student, map[string]any{"instructor_id": id,
				"instructor_service_id": offer, "date": date, "start_time": "10:00", "duration_minutes": 60}, &bk); st != 201 {
				t.Fatalf("book: %d", st)
			}
			bookingID, _ = bk["id"].(string)
		}},
		{"booking cancelled through node a", func() {
			if st := a.call("POST", "/api/v1/bookings/"+bookingID+"/cancel", student, map[string]any{}, nil); st != 200 {
				t.Fatalf("cancel: %d", st)
			}
		}},
		{"window deleted through the store, its event published to no node", func() {
			if err := db.DeleteWindow(ctx, id, windowAt("13:00"), nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"timezone changed (no availability event)", func() {
			if st := a.call("PUT", "/api/v1/instructors/me", itok, map[string]any{"timezone": "Europe/Berlin"}, nil); st != 200 {
				t.Fatalf("timezone: %d", st)
			}
		}},
		{"instructor role revoked (no event)", func() {
			if _, err := storetest.Pool(db).Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND role = 'instructor'`, id); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, step := range steps {
		// Warm both caches: the second GET on each node must be a hit.
		before := cacheHits(a, b)
		for _, n := range []*rtNode{a, b, a, b} {
			if st, body, err := getRaw(n.base, path); err != nil || st != 200 {
				t.Fatalf("%s: warm-up GET: %d %s %v", step.name, st, body, err)
			}
		}
		if hits := cacheHits(a, b) - before; hits < 2 {
			t.Fatalf("%s: warm-up served %d reads from the caches, want ≥ 2", step.name, hits)
		}
		step.change()
		wantStatus, want := truthJSON(t, db, id, date, date)
		for name, n := range map[string]*rtNode{"node a": a, "node b": b} {
			st, body, err := getRaw(n.base, path)
			if err != nil {
				t.Fatal(err)
			}
			if st != wantStatus || (st == 200 && string(body) != want) {
				t.Fatalf("%s: %s right after the commit returned %d %s, the database has %d %s", step.name, name, st, body, wantStatus, want)
			}
		}
	}
}

// stampGate is a stamper whose statements stay "in flight" until the test
// answers them: the database cannot be paused mid-statement on demand, and
// what is tested is which callers may share which statement.
type stampGate struct {
	calls chan chan market.AvailabilityStamp
}

func (g stampGate) AvailabilityStamp(ctx context.Context, _ string) (market.AvailabilityStamp, error) {
	reply := make(chan market.AvailabilityStamp)
	g.calls <- reply
	select {
	case st := <-reply:
		return st, nil
	case <-ctx.Done():
		return market.AvailabilityStamp{}, ctx.Err()
	}
}

func TestStampProbeIsSharedOnlyByRequestsThatArrivedBeforeItWasSent(t *testing.T) {
	g := stampGate{calls: make(chan chan market.AvailabilityStamp)}
	c := newAvailabilityCache(g, 1<<20)
	ctx := context.Background()
	answer := func(p *stampProbe) int64 {
		t.Helper()
		select {
		case <-p.done:
			return p.stamp.Seq
		case <-time.After(5 * time.Second):
			t.Fatal("probe never answered")
		}
		return 0
	}
	sent := func() chan market.AvailabilityStamp {
		t.Helper()
		select {
		case r := <-g.calls:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("no statement sent")
		}
		return nil
	}
	noneSent := func() {
		t.Helper()
		select {
		case <-g.calls:
			t.Fatal("a statement was sent while another was in flight")
		case <-time.After(20 * time.Millisecond):
		}
	}

	pA := c.join(ctx, "i")
	first := sent()
	pB, pC := c.join(ctx, "i"), c.join(ctx, "i") // arrive while the first is in flight
	if pB == pA || pC != pB {
		t.Fatal("requests arriving during a probe must share the next one, not the running one")
	}
	noneSent()
	first <- market.AvailabilityStamp{Seq: 1}
	if got := answer(pA); got != 1 {
		t.Fatalf("A got seq %d", got)
	}
	second := sent() // the queued probe goes out only now
	pD := c.join(ctx, "i")
	if pD == pB {
		t.Fatal("D arrived after the second probe was sent and must not take its answer")
	}
	second <- market.AvailabilityStamp{Seq: 2}
	if b, cc := answer(pB), answer(pC); b != 2 || cc != 2 {
		t.Fatalf("B, C got %d, %d; want the second probe's 2", b, cc)
	}
	sent() <- market.AvailabilityStamp{Seq: 3}
	if got := answer(pD); got != 3 {
		t.Fatalf("D got %d", got)
	}
	c.mu.Lock()
	left := len(c.probes)
	c.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d probe slots left after every probe finished", left)
	}
}

// Entries stay within the byte budget, and an older read never replaces a
// newer one.
func TestAvailabilityCacheKeepsItsBudgetAndTheNewestStamp(t *testing.T) {
	c := newAvailabilityCache(stampGate{}, 100)
	c.put("i", "a", "b", market.AvailabilityStamp{Seq: 5}, []byte(strings.Repeat("x", 40)))
	c.put("i", "a", "b", market.AvailabilityStamp{Seq: 4}, []byte("old"))
	if e := c.entries[availabilityKey("i", "a", "b")]; e == nil || e.stamp.Seq != 5 {
		t.Fatalf("entry %+v, want the seq 5 read kept", e)
	}
	for i := 0; i < 10; i++ {
		c.put(fmt.Sprint("j", i), "a", "b", market.AvailabilityStamp{Seq: 1}, []byte(strings.Repeat("y", 30)))
		if c.bytes > 100 {
			t.Fatalf("cache holds %d bytes, budget 100", c.bytes)
		}
	}
	c.put("k", "a", "b", market.AvailabilityStamp{}, []byte(strings.Repeat("z", 101)))
	if c.entries[availabilityKey("k", "a", "b")] != nil {
		t.Fatal("an entry larger than the whole budget was stored")
	}
	// A range never read is a miss without a probe (stampGate{} would block).
	if body, err := c.get(context.Background(), "nobody", "a", "b"); body != nil || err != nil {
		t.Fatalf("get of an uncached range = %q, %v", body, err)
	}
}

// A snapshot read from the database can be ahead of this node's hub: the
// commit is done but its event is still on the way (here: never published,
// left to the relay). Subscribing since that seq must then neither reset
// nor deliver the event again later (SPEC §5: no duplicate, no gap).
func TestSubscribeSinceASeqTheNodeHasNotSeenYetCatchesUpWithoutResetOrDuplicate(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) { c.RelayDelay = 2 * time.Second })
	topic := market.AvailabilityTopic("00000000-0000-4000-8000-00000000ca7c")
	n.commit(availEvent(topic, 1))
	early := dialWS(t, n.ws, nil)
	early.expect("welcome")
	early.subscribe(topic, 1) // the node's view of the topic: seq 1

	// Commit seq 2 without handing it to the broker, as if still in flight.
	// db has no publisher: the node's view (n.node.DB) would publish.
	if _, err := db.CommitEvents(context.Background(), []market.NewEvent{availEvent(topic, 2)}); err != nil {
		t.Fatal(err)
	}
	late := dialWS(t, n.ws, nil)
	late.expect("welcome")
	replay, ack := late.subscribe(topic, 2)
	if len(replay) != 0 || ack.Seq != 2 {
		t.Fatalf("subscribe since 2: replayed %d events, ack seq %d; want none and 2", len(replay), ack.Seq)
	}
	// Past the relay's delay, seq 2 reaches the node through the broker too.
	for deadline := time.After(2500 * time.Millisecond); ; {
		select {
		case f := <-late.frames:
			if f.Type == "reset" || f.Type == "event" {
				t.Fatalf("got %s (seq %d) after subscribing since the latest commit", f.Type, f.Seq)
			}
			continue
		case <-deadline:
		}
		break
	}
	assertSeqs(t, early.events(topic, 1, 5*time.Second), 2, 2)
	early.quiet(300 * time.Millisecond)

	// A since beyond every commit is from another history: still a reset.
	other := dialWS(t, n.ws, nil)
	other.expect("welcome")
	other.send(map[string]any{"type": "subscribe", "topic": topic, "since": 99})
	if f := other.expect("reset"); f.Seq != 2 {
		t.Fatalf("reset at seq %d, want 2", f.Seq)
	}
}
