package main

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Histogram names (keys of Result.Latency).
const (
	hBookingPost        = "booking_post"         // intended start → answer (coordinated-omission free)
	hBookingService     = "booking_post_service" // actual send → answer (what a closed-loop tool would show)
	hCancelPost         = "cancel_post"
	hGetAvailability    = "get_availability"
	hConnect            = "ws_connect" // dial → welcome
	hSubscribeAck       = "ws_subscribe_ack"
	hPushAvailSame      = "push_availability_same_node" // commit ts → receipt
	hPushAvailCross     = "push_availability_cross_node"
	hPushBookingSame    = "push_booking_same_node"
	hPushBookingCross   = "push_booking_cross_node"
	hFanoutFirst        = "fanout_first_delivery" // per event: commit → first receiver
	hFanoutLast         = "fanout_last_delivery"  // per event: commit → last receiver
	hFanoutSpread       = "fanout_spread"         // per event: first → last receiver
	hPushCrossAll       = "push_cross_node"       // every push received on another node than the write
	hPushSameAll        = "push_same_node"
	hReconnect          = "ws_reconnect"
	hBookingPushInstr   = "push_booking_to_instructor"
	hBookingPushStudent = "push_booking_to_student"
)

var histNames = []string{
	hBookingPost, hBookingService, hCancelPost, hGetAvailability, hConnect, hSubscribeAck,
	hPushAvailSame, hPushAvailCross, hPushBookingSame, hPushBookingCross, hPushSameAll, hPushCrossAll,
	hBookingPushInstr, hBookingPushStudent, hFanoutFirst, hFanoutLast, hFanoutSpread, hReconnect,
}

// stats is everything counted while the run goes; all of it is safe for
// concurrent use.
type stats struct {
	hist map[string]*Histogram // fixed set of keys, created up front

	scheduled, sent, created, conflicts, bookErrors, noSlot, dropped atomic.Int64
	cancelSent, cancelled, cancelErrors                              atomic.Int64
	gets, getErrors, replays                                         atomic.Int64
	shed, cancelShed                                                 atomic.Int64 // 503 + Retry-After: refused, not failed
	availRecv, bookingPushRecv, reconnects, connected                atomic.Int64

	mu     sync.Mutex
	errors map[string]int64
	notes  map[string]int64 // non-failing observations (409 codes, logins that failed…)
}

func newStats() *stats {
	s := &stats{hist: map[string]*Histogram{}, errors: map[string]int64{}, notes: map[string]int64{}}
	for _, n := range histNames {
		s.hist[n] = &Histogram{}
	}
	return s
}

func (s *stats) record(name string, d time.Duration) { s.hist[name].Record(d) }

// fail counts an error of a kind; errors fail the run.
func (s *stats) fail(kind string) {
	s.mu.Lock()
	s.errors[kind]++
	s.mu.Unlock()
}

// note counts something worth reporting that does not fail the run.
func (s *stats) note(kind string) {
	s.mu.Lock()
	s.notes[kind]++
	s.mu.Unlock()
}

func (s *stats) errorTotal() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.errors {
		n += v
	}
	return n
}

func (s *stats) snapshot() (errs, notes map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs, notes = map[string]int64{}, map[string]int64{}
	for k, v := range s.errors {
		errs[k] = v
	}
	for k, v := range s.notes {
		notes[k] = v
	}
	return errs, notes
}

// topicTrack follows one availability topic: which subscriptions watch it
// (for the expected receiver count) and, per event, when its first and last
// receivers got it (fan-out completion).
type topicTrack struct {
	instructorID string
	topic        string
	home         int // node that takes this instructor's writes

	mu     sync.Mutex
	subs   []*subscription
	events map[int64]*fanRec
	final  int64 // topic seq read over REST after the load stopped
}

type fanRec struct {
	ts          time.Time
	first, last time.Time
	n           int32
}

func newTopicTrack(instructorID string, home int) *topicTrack {
	return &topicTrack{
		instructorID: instructorID, topic: "availability:" + instructorID, home: home,
		events: map[int64]*fanRec{},
	}
}

func (t *topicTrack) addSub(s *subscription) {
	t.mu.Lock()
	t.subs = append(t.subs, s)
	t.mu.Unlock()
}

// received notes one fresh delivery of seq; it returns the event's commit
// time, parsing ts only for the first receiver.
func (t *topicTrack) received(seq int64, ts []byte, now time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.events[seq]
	if r == nil {
		at, err := parseTS(ts)
		if err != nil {
			return time.Time{}, false
		}
		r = &fanRec{ts: at, first: now, last: now}
		t.events[seq] = r
	}
	if now.Before(r.first) {
		r.first = now
	}
	if now.After(r.last) {
		r.last = now
	}
	r.n++
	return r.ts, true
}

// fanout summarises fan-out per event once readers have stopped: events
// whose every expected receiver got them feed the first/last histograms.
func (t *topicTrack) fanout(st *stats) (events, complete int, receivers int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	seqs := make([]int64, 0, len(t.events))
	for s := range t.events {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		r := t.events[seq]
		var want int32
		for _, s := range t.subs {
			if s.acked && s.ackSeq < seq {
				want++
			}
		}
		events++
		receivers += int64(r.n)
		if r.n >= want && want > 0 {
			complete++
			st.record(hFanoutFirst, r.first.Sub(r.ts))
			st.record(hFanoutLast, r.last.Sub(r.ts))
			st.record(hFanoutSpread, r.last.Sub(r.first))
		}
	}
	return events, complete, receivers
}

// subscription is one connection's view of one topic: the seq it was acked
// at and continuity from there. Owned by the connection's reader goroutine.
type subscription struct {
	topic  string
	track  *topicTrack // nil for a private user topic
	isUser bool

	since    int64 // subscribe's since (-1: live only)
	sentAt   time.Time
	acked    bool
	failed   string // error code when the subscribe was refused
	ackSeq   int64  // baseline: every seq after it must arrive
	haveLast bool
	last     int64
	pre      []int64 // events that came before the ack of a live-only subscribe

	resyncing bool           // a re-subscribe after reconnect is waiting for its ack
	resync    map[int64]bool // user topic: seqs seen while resyncing

	received, gaps, dups, preAck, resets, resetSkipped int64
	gapSamples                                         []string
}

// accept applies per-topic seq continuity and reports whether seq is new.
// A jump forward counts the missing seqs as gaps; a seq at or below the last
// one is a duplicate (or a reorder, which the protocol forbids too).
func (s *subscription) accept(seq int64) bool {
	if !s.haveLast {
		s.haveLast, s.last = true, seq
		s.received++
		return true
	}
	switch {
	case seq == s.last+1:
	case seq > s.last+1:
		s.gaps += seq - s.last - 1
		if len(s.gapSamples) < 5 {
			s.gapSamples = append(s.gapSamples, s.topic+" "+itoa(s.last+1)+".."+itoa(seq-1))
		}
	default:
		s.dups++
		return false
	}
	s.last = seq
	s.received++
	return true
}

// bookingRec is a booking the generator created, for reconciling the
// private pushes its instructor's and student's connections must receive.
type bookingRec struct {
	id         string
	instructor string
	student    string
	cancelled  bool // cancel answered 200
	cancelLost bool // cancel outcome unknown (timeout): no cancel push is expected or forbidden
}

// Push flags of booking events on private topics.
const (
	pushCreated   = 1 // booking.created (instructor) / booking.confirmed (student)
	pushCancelled = 2
	pushOther     = 4
)

// bookings is the set of created bookings, by id.
type bookings struct {
	mu sync.Mutex
	m  map[string]*bookingRec
}

func (b *bookings) add(r *bookingRec) {
	b.mu.Lock()
	b.m[r.id] = r
	b.mu.Unlock()
}

func (b *bookings) update(id string, f func(*bookingRec)) {
	b.mu.Lock()
	if r := b.m[id]; r != nil {
		f(r)
	}
	b.mu.Unlock()
}

func (b *bookings) get(id string) *bookingRec {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

func (b *bookings) all() []*bookingRec {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*bookingRec, 0, len(b.m))
	for _, r := range b.m {
		out = append(out, r)
	}
	return out
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
