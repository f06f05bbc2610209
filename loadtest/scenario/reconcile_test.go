package scenario

import (
	"instainstru/loadtest/client"
	"instainstru/loadtest/config"
	"instainstru/loadtest/measure"
	"testing"
	"time"
)

// fakeRun builds a runner whose connections already "received" what each
// case says, so the reconciliation can be checked without a server.
func fakeRun(t *testing.T) (*runner, *measure.TopicTrack) {
	t.Helper()
	cfg, _ := config.NewConfig("smoke", []string{"http://a", "http://b"})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, st: measure.NewStats(), wsURL: []string{"ws://a/ws", "ws://b/ws"}, home: map[string]int{"i1": 0}, connsOf: map[string]int{},
		books: measure.Bookings{M: map[string]*measure.BookingRec{}}, loadStart: time.Now(), loadEnd: time.Now().Add(time.Second)}
	tr := measure.NewTopicTrack("i1", 0)
	tr.Final = 10
	r.tracks = []*measure.TopicTrack{tr}
	return r, tr
}

func watcher(r *runner, tr *measure.TopicTrack, node int, ack int64, seqs ...int64) *client.WSClient {
	c := client.NewWSClient(r.wsEnv(), node, r.wsURL[node], nil, nil, client.RoleWatcher)
	c.AddTopic(tr, -1)
	s := c.Order[0]
	s.Acked, s.AckSeq, s.HaveLast, s.Last = true, ack, true, ack
	for _, q := range seqs {
		s.Accept(q)
	}
	r.clients = append(r.clients, c)
	return c
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for q := from; q <= to; q++ {
		out = append(out, q)
	}
	return out
}

func TestReconcileCountsEveryMissingAndRepeatedEvent(t *testing.T) {
	cases := []struct {
		name               string
		seqs               []int64
		ack                int64
		lost, dups, expect int64
	}{
		{"complete from ack to final", seqRange(5, 10), 4, 0, 0, 6},
		{"tail missing", seqRange(5, 8), 4, 2, 0, 6},
		{"gap in the middle", append(seqRange(5, 6), seqRange(9, 10)...), 4, 2, 0, 6},
		{"one duplicate", append(seqRange(5, 10), 10), 4, 0, 1, 6},
		{"nothing after ack", nil, 4, 6, 0, 6},
		{"acked at final", nil, 10, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, tr := fakeRun(t)
			watcher(r, tr, 1, c.ack, c.seqs...)
			res := r.result(0)
			d := res.Delivery
			if d.Lost != c.lost || d.Duplicated != c.dups || d.ExpectedEvents != c.expect {
				t.Fatalf("lost %d dups %d expected %d; want %d %d %d", d.Lost, d.Duplicated, d.ExpectedEvents, c.lost, c.dups, c.expect)
			}
			if res.Pass != (c.lost == 0 && c.dups == 0) {
				t.Fatalf("pass %v with lost %d dups %d (%v)", res.Pass, c.lost, c.dups, res.Failures)
			}
		})
	}
}

func TestReconcileChecksBookingPushesPerConnection(t *testing.T) {
	instr := &client.Session{UserID: "i1", Token: "t"}
	stud := &client.Session{UserID: "s1", Token: "t"}
	cases := []struct {
		name                string
		cancelled           bool
		instrSeen, studSeen uint8
		lost, unwanted      int64
		expected, received  int64
	}{
		{"created and pushed to both", false, measure.PushCreated, measure.PushCreated, 0, 0, 2, 2},
		{"student missed confirmation", false, measure.PushCreated, 0, 1, 0, 2, 1},
		{"cancel pushed to both", true, measure.PushCreated | measure.PushCancelled, measure.PushCreated | measure.PushCancelled, 0, 0, 4, 4},
		{"instructor missed the cancel", true, measure.PushCreated, measure.PushCreated | measure.PushCancelled, 1, 0, 4, 3},
		{"cancel pushed for a live booking", false, measure.PushCreated | measure.PushCancelled, measure.PushCreated, 0, 1, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := fakeRun(t)
			ic := client.NewWSClient(r.wsEnv(), 1, r.wsURL[1], nil, instr, client.RoleInstructor)
			sc := client.NewWSClient(r.wsEnv(), 0, r.wsURL[0], nil, stud, client.RoleWatcher)
			ic.Seen["b1"], sc.Seen["b1"] = c.instrSeen, c.studSeen
			r.clients = append(r.clients, ic, sc)
			r.books.Add(&measure.BookingRec{ID: "b1", Instructor: "i1", Student: "s1", Cancelled: c.cancelled})
			res := r.result(0)
			d := res.Delivery
			if d.BookingPushLost != c.lost || d.BookingPushUnwanted != c.unwanted || d.BookingPushExpected != c.expected || d.BookingPushReceived != c.received {
				t.Fatalf("lost %d unwanted %d expected %d received %d", d.BookingPushLost, d.BookingPushUnwanted, d.BookingPushExpected, d.BookingPushReceived)
			}
			if res.Pass != (c.lost == 0 && c.unwanted == 0) {
				t.Fatalf("pass %v (%v)", res.Pass, res.Failures)
			}
		})
	}
}

func TestReconcileFlagsPushesForBookingsNoRequestCreated(t *testing.T) {
	r, _ := fakeRun(t)
	ic := client.NewWSClient(r.wsEnv(), 1, r.wsURL[1], nil, &client.Session{UserID: "i1"}, client.RoleInstructor)
	ic.Seen["ghost"] = measure.PushCreated
	r.clients = append(r.clients, ic)
	res := r.result(0)
	if res.Delivery.BookingPushUnknown != 1 || res.Pass {
		t.Fatalf("unknown %d pass %v: a second booking from a replayed key must fail the run", res.Delivery.BookingPushUnknown, res.Pass)
	}
}
