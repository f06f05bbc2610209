package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// bouncerWorld: two hub nodes whose every pool reaches Postgres only
// through one real PgBouncer in pool_mode=transaction (DB_POOLING=
// transaction), a shared Redis between them, job workers sending to a
// Mailpit, and an instructor with a 09:00–12:00 window three days ahead.
type bouncerWorld struct {
	a, b    *rtNode
	db      *store.DB // node A's pool, through the bouncer
	direct  *store.DB // straight to Postgres, for what a node "crashed" before publishing
	mp      *storetest.Mailpit
	date    string
	instTok string
	inst    string
	offer   string
}

func newBouncerWorld(t *testing.T) *bouncerWorld {
	t.Helper()
	url := storetest.NewDatabaseURL(t)
	bouncer := storetest.PgBouncer(t, url)
	open := func(u string, o store.Options) *store.DB {
		db, err := store.OpenWith(context.Background(), u, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	pooled := store.Options{Pooling: store.PoolingTransaction}
	w := &bouncerWorld{db: open(bouncer, pooled), direct: open(url, store.Options{}), mp: storetest.StartMailpit(t)}
	redisURL, prefix := storetest.SharedRedis(t)
	w.a = startNode(t, w.db, redisURL, prefix, "node-a", withNotify(w.mp.SMTPURL(), 2))
	w.b = startNode(t, open(bouncer, pooled), redisURL, prefix, "node-b", withNotify(w.mp.SMTPURL(), 2))
	w.date = time.Now().In(mustLoc(t, market.DefaultTimezone)).AddDate(0, 0, 3).Format(time.DateOnly)
	w.instTok, w.inst, w.offer = w.a.bookableInstructor(w.db, w.date)
	return w
}

func (w *bouncerWorld) body(start string) []byte {
	b, _ := json.Marshal(map[string]any{"instructor_id": w.inst, "instructor_service_id": w.offer,
		"date": w.date, "start_time": start, "duration_minutes": 60})
	return b
}

// Named prepared statements, session advisory locks and LISTEN all break
// behind a transaction pooler; the hub uses none of them in this mode.
// Each part is the multi-node guarantee it names, through the bouncer.
func TestTwoNodesWorkThroughPgBouncerInTransactionPooling(t *testing.T) {
	t.Parallel()
	w := newBouncerWorld(t)
	nodes := []*rtNode{w.a, w.b}

	t.Run("a booking on A is pushed to the instructor on B, watchers on A, and emailed by River", func(t *testing.T) {
		var avail market.Availability
		if st := w.b.call("GET", "/api/v1/instructors/"+w.inst+"/availability?from="+w.date+"&to="+w.date, "", nil, &avail); st != 200 {
			t.Fatalf("availability: %d", st)
		}
		instOnB := dialWS(t, w.b.ws, bearer(w.instTok))
		instOnB.expect("welcome")
		watcher := dialWS(t, w.a.ws, nil)
		watcher.expect("welcome")
		watcher.subscribe(market.AvailabilityTopic(w.inst), avail.Seq)
		studTok, _, studEmail := w.a.registerEmail(market.RoleStudent)
		var booking market.Booking
		if r := postBooking(burstClient(t), w.a.base+"/api/v1/bookings", studTok, "", w.body("10:00")); r.status != 201 {
			t.Fatalf("book: %d %s", r.status, r.body)
		} else {
			mustJSON(t, r.body, &booking)
		}
		if ev := instOnB.events(market.UserTopic(w.inst), 1, 5*time.Second)[0]; ev.Event != market.EventBookingCreated ||
			!bytes.Contains(ev.Data, []byte(booking.ID)) {
			t.Fatalf("instructor on B got %s %s", ev.Event, ev.Data)
		}
		if n := nextNotification(t, instOnB); n.Kind != market.NotifyBookingCreated || n.BookingID == nil || *n.BookingID != booking.ID {
			t.Fatalf("instructor's notification %+v", n)
		}
		if ev := watcher.events(market.AvailabilityTopic(w.inst), 1, 5*time.Second)[0]; ev.Event != market.EventAvailabilityChanged || ev.Seq != avail.Seq+1 {
			t.Fatalf("watcher on A got %s seq %d, want availability.changed seq %d", ev.Event, ev.Seq, avail.Seq+1)
		}
		// River works the email job by polling (no LISTEN through the pooler).
		w.mp.WaitFor(1, 10*time.Second, storetest.To(studEmail))
	})

	t.Run("students racing for one slot on both nodes: exactly one wins", func(t *testing.T) {
		const n = 16
		toks := make([]string, n)
		for i := range toks {
			toks[i], _ = nodes[i%2].register(market.RoleStudent)
		}
		results := race(t, n, func(i int) schedResult {
			return postBooking(burstClient(t), nodes[i%2].base+"/api/v1/bookings", toks[i], "", w.body("11:00"))
		})
		created := 0
		for i, r := range results {
			switch {
			case r.status == 201:
				created++
			case r.status != 409 || decodeAPIError(t, r.body).Error.Code != market.ESLOTUNAVAIL:
				t.Fatalf("request %d: %d %s %v", i, r.status, r.body, r.err)
			}
		}
		if created != 1 {
			t.Fatalf("%d bookings created for one slot", created)
		}
	})

	t.Run("one Idempotency-Key retried on both nodes is one booking", func(t *testing.T) {
		tok, stud := w.b.register(market.RoleStudent)
		key := "bouncer-" + uuid.NewString()
		results := race(t, 10, func(i int) schedResult {
			return postBooking(burstClient(t), nodes[i%2].base+"/api/v1/bookings", tok, key, w.body("09:00"))
		})
		for i, r := range results {
			if r.status != 201 || !bytes.Equal(r.body, results[0].body) {
				t.Fatalf("request %d: %d %s (first: %s)", i, r.status, r.body, results[0].body)
			}
		}
		var rows int
		if err := storetest.Pool(w.db).QueryRow(context.Background(), `SELECT count(*) FROM bookings WHERE student_id = $1`, stud).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("%d bookings for the student (%v), want 1", rows, err)
		}
	})

	t.Run("resume on the other node replays exactly the missed events, then live", func(t *testing.T) {
		topic := market.AvailabilityTopic(uuid.NewString())
		c := dialWS(t, w.a.ws, nil)
		c.subscribe(topic, -1)
		for i := 1; i <= 3; i++ {
			w.a.commit(availEvent(topic, i))
		}
		assertSeqs(t, c.events(topic, 3, 5*time.Second), 1, 3)
		c.ws.CloseNow() //nolint:errcheck
		for i := 4; i <= 9; i++ {
			nodes[i%2].commit(availEvent(topic, i))
		}
		r := dialWS(t, w.b.ws, nil)
		r.expect("welcome")
		replay, ack := r.subscribe(topic, 3)
		assertSeqs(t, replay, 4, 9)
		if ack.Seq != 9 {
			t.Fatalf("ack seq %d, want 9", ack.Seq)
		}
		w.a.commit(availEvent(topic, 10))
		assertSeqs(t, r.events(topic, 1, 5*time.Second), 10, 10)
	})

	t.Run("events a node committed but never published reach clients through the relay's lease", func(t *testing.T) {
		topic := market.AvailabilityTopic(uuid.NewString())
		c := dialWS(t, w.b.ws, nil)
		c.expect("welcome")
		c.subscribe(topic, -1)
		if _, err := w.direct.CommitEvents(context.Background(), []market.NewEvent{availEvent(topic, 1), availEvent(topic, 2)}); err != nil {
			t.Fatal(err)
		}
		assertSeqs(t, c.events(topic, 2, 10*time.Second), 1, 2)
	})
}

// race runs n calls of do at once and returns their results in order.
func race(t *testing.T, n int, do func(i int) schedResult) []schedResult {
	t.Helper()
	out := make([]schedResult, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; out[i] = do(i) }()
	}
	close(start)
	wg.Wait()
	for i, r := range out {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, fmt.Errorf("through the bouncer: %w", r.err))
		}
	}
	return out
}
