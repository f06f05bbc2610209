package main

import (
	"testing"
	"time"
)

// fakeRun builds a runner whose connections already "received" what each
// case says, so the reconciliation can be checked without a server.
func fakeRun(t *testing.T) (*runner, *topicTrack) {
	t.Helper()
	cfg, _ := NewConfig("smoke", []string{"http://a", "http://b"})
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, st: newStats(), wsURL: []string{"ws://a/ws", "ws://b/ws"}, home: map[string]int{"i1": 0}, connsOf: map[string]int{},
		books: bookings{m: map[string]*bookingRec{}}, loadStart: time.Now(), loadEnd: time.Now().Add(time.Second)}
	tr := newTopicTrack("i1", 0)
	tr.final = 10
	r.tracks = []*topicTrack{tr}
	return r, tr
}

func watcher(r *runner, tr *topicTrack, node int, ack int64, seqs ...int64) *wsClient {
	c := newWSClient(r.wsEnv(), node, r.wsURL[node], nil, nil, roleWatcher)
	c.addTopic(tr, -1)
	s := c.order[0]
	s.acked, s.ackSeq, s.haveLast, s.last = true, ack, true, ack
	for _, q := range seqs {
		s.accept(q)
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
	instr := &session{UserID: "i1", Token: "t"}
	stud := &session{UserID: "s1", Token: "t"}
	cases := []struct {
		name                string
		cancelled           bool
		instrSeen, studSeen uint8
		lost, unwanted      int64
		expected, received  int64
	}{
		{"created and pushed to both", false, pushCreated, pushCreated, 0, 0, 2, 2},
		{"student missed confirmation", false, pushCreated, 0, 1, 0, 2, 1},
		{"cancel pushed to both", true, pushCreated | pushCancelled, pushCreated | pushCancelled, 0, 0, 4, 4},
		{"instructor missed the cancel", true, pushCreated, pushCreated | pushCancelled, 1, 0, 4, 3},
		{"cancel pushed for a live booking", false, pushCreated | pushCancelled, pushCreated, 0, 1, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := fakeRun(t)
			ic := newWSClient(r.wsEnv(), 1, r.wsURL[1], nil, instr, roleInstructor)
			sc := newWSClient(r.wsEnv(), 0, r.wsURL[0], nil, stud, roleWatcher)
			ic.seen["b1"], sc.seen["b1"] = c.instrSeen, c.studSeen
			r.clients = append(r.clients, ic, sc)
			r.books.add(&bookingRec{id: "b1", instructor: "i1", student: "s1", cancelled: c.cancelled})
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
	ic := newWSClient(r.wsEnv(), 1, r.wsURL[1], nil, &session{UserID: "i1"}, roleInstructor)
	ic.seen["ghost"] = pushCreated
	r.clients = append(r.clients, ic)
	res := r.result(0)
	if res.Delivery.BookingPushUnknown != 1 || res.Pass {
		t.Fatalf("unknown %d pass %v: a second booking from a replayed key must fail the run", res.Delivery.BookingPushUnknown, res.Pass)
	}
}
