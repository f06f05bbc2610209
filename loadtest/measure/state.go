package measure

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Histogram names (keys of Result.Latency).
const (
	HBookingPost        = "booking_post"         // intended start → answer (coordinated-omission free)
	HBookingService     = "booking_post_service" // actual send → answer (what a closed-loop tool would show)
	HCancelPost         = "cancel_post"
	HGetAvailability    = "get_availability"
	HConnect            = "ws_connect" // dial → welcome
	HSubscribeAck       = "ws_subscribe_ack"
	HPushAvailSame      = "push_availability_same_node" // commit ts → receipt
	HPushAvailCross     = "push_availability_cross_node"
	HPushBookingSame    = "push_booking_same_node"
	HPushBookingCross   = "push_booking_cross_node"
	HFanoutFirst        = "fanout_first_delivery" // per event: commit → first receiver
	HFanoutLast         = "fanout_last_delivery"  // per event: commit → last receiver
	HFanoutSpread       = "fanout_spread"         // per event: first → last receiver
	HPushCrossAll       = "push_cross_node"       // every push received on another node than the write
	HPushSameAll        = "push_same_node"
	HReconnect          = "ws_reconnect"
	HBookingPushInstr   = "push_booking_to_instructor"
	HBookingPushStudent = "push_booking_to_student"
	HMessageDeliver     = "message_send_to_recipient"   // messages: intended send → the other party's socket (other node)
	HMessageCommit      = "message_commit_to_recipient" // messages: commit ts → the other party's socket
	HMessagePost        = "message_post"                // messages: intended send → 201
)

var histNames = []string{
	HBookingPost, HBookingService, HCancelPost, HGetAvailability, HConnect, HSubscribeAck,
	HPushAvailSame, HPushAvailCross, HPushBookingSame, HPushBookingCross, HPushSameAll, HPushCrossAll,
	HBookingPushInstr, HBookingPushStudent, HFanoutFirst, HFanoutLast, HFanoutSpread, HReconnect,
	HMessageDeliver, HMessageCommit, HMessagePost,
}

// Stats is everything counted while the run goes; all of it is safe for
// concurrent use.
type Stats struct {
	Hist map[string]*Histogram // fixed set of keys, created up front

	Scheduled, Sent, Created, Conflicts, BookErrors, NoSlot, Dropped atomic.Int64
	CancelSent, Cancelled, CancelErrors                              atomic.Int64
	Gets, GetErrors, Replays                                         atomic.Int64
	Shed, CancelShed                                                 atomic.Int64 // 503 + Retry-After: refused, not failed
	AvailRecv, BookingPushRecv, Reconnects, Connected                atomic.Int64

	mu     sync.Mutex
	errors map[string]int64
	notes  map[string]int64 // non-failing observations (409 codes, logins that failed…)
}

func NewStats() *Stats {
	s := &Stats{Hist: map[string]*Histogram{}, errors: map[string]int64{}, notes: map[string]int64{}}
	for _, n := range histNames {
		s.Hist[n] = &Histogram{}
	}
	return s
}

func (s *Stats) Record(name string, d time.Duration) { s.Hist[name].Record(d) }

// Fail counts an error of a kind; errors fail the run.
func (s *Stats) Fail(kind string) {
	s.mu.Lock()
	s.errors[kind]++
	s.mu.Unlock()
}

// Note counts something worth reporting that does not fail the run.
func (s *Stats) Note(kind string) {
	s.mu.Lock()
	s.notes[kind]++
	s.mu.Unlock()
}

func (s *Stats) ErrorTotal() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.errors {
		n += v
	}
	return n
}

func (s *Stats) Snapshot() (errs, notes map[string]int64) {
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

// TopicTrack follows one availability topic: which subscriptions watch it
// (for the expected receiver count) and, per event, when its first and last
// receivers got it (fan-out completion).
type TopicTrack struct {
	InstructorID string
	Topic        string
	Home         int // node that takes this instructor's writes

	Mu     sync.Mutex
	Subs   []*Subscription
	events map[int64]*fanRec
	Final  int64 // topic seq read over REST after the load stopped
}

type fanRec struct {
	ts          time.Time
	first, last time.Time
	n           int32
}

func NewTopicTrack(instructorID string, home int) *TopicTrack {
	return &TopicTrack{
		InstructorID: instructorID, Topic: "availability:" + instructorID, Home: home,
		events: map[int64]*fanRec{},
	}
}

func (t *TopicTrack) AddSub(s *Subscription) {
	t.Mu.Lock()
	t.Subs = append(t.Subs, s)
	t.Mu.Unlock()
}

// Received notes one fresh delivery of seq; it returns the event's commit
// time, parsing ts only for the first receiver.
func (t *TopicTrack) Received(seq int64, ts []byte, now time.Time) (time.Time, bool) {
	t.Mu.Lock()
	defer t.Mu.Unlock()
	r := t.events[seq]
	if r == nil {
		at, err := ParseTS(ts)
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

// Fanout summarises fan-out per event once readers have stopped: events
// whose every expected receiver got them feed the first/last histograms.
func (t *TopicTrack) Fanout(st *Stats) (events, complete int, receivers int64) {
	t.Mu.Lock()
	defer t.Mu.Unlock()
	seqs := make([]int64, 0, len(t.events))
	for s := range t.events {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		r := t.events[seq]
		var want int32
		for _, s := range t.Subs {
			if s.Acked && s.AckSeq < seq {
				want++
			}
		}
		events++
		receivers += int64(r.n)
		if r.n >= want && want > 0 {
			complete++
			st.Record(HFanoutFirst, r.first.Sub(r.ts))
			st.Record(HFanoutLast, r.last.Sub(r.ts))
			st.Record(HFanoutSpread, r.last.Sub(r.first))
		}
	}
	return events, complete, receivers
}

// Subscription is one connection's view of one topic: the seq it was acked
// at and continuity from there. Owned by the connection's reader goroutine.
type Subscription struct {
	Topic  string
	Track  *TopicTrack // nil for a private user topic
	IsUser bool

	Since    int64 // subscribe's since (-1: live only)
	SentAt   time.Time
	Acked    bool
	Failed   string // error code when the subscribe was refused
	AckSeq   int64  // baseline: every seq after it must arrive
	HaveLast bool
	Last     int64
	Pre      []int64 // events that came before the ack of a live-only subscribe

	Resyncing bool           // a re-subscribe after reconnect is waiting for its ack
	Resync    map[int64]bool // user topic: seqs seen while resyncing

	Received, Gaps, Dups, PreAck, Resets, ResetSkipped int64
	GapSamples                                         []string
}

// Accept applies per-topic seq continuity and reports whether seq is new.
// A jump forward counts the missing seqs as gaps; a seq at or below the last
// one is a duplicate (or a reorder, which the protocol forbids too).
func (s *Subscription) Accept(seq int64) bool {
	if !s.HaveLast {
		s.HaveLast, s.Last = true, seq
		s.Received++
		return true
	}
	switch {
	case seq == s.Last+1:
	case seq > s.Last+1:
		s.Gaps += seq - s.Last - 1
		if len(s.GapSamples) < 5 {
			s.GapSamples = append(s.GapSamples, s.Topic+" "+itoa(s.Last+1)+".."+itoa(seq-1))
		}
	default:
		s.Dups++
		return false
	}
	s.Last = seq
	s.Received++
	return true
}

// BookingRec is a booking the generator created, for reconciling the
// private pushes its instructor's and student's connections must receive.
type BookingRec struct {
	ID         string
	Instructor string
	Student    string
	Cancelled  bool // cancel answered 200
	CancelLost bool // cancel outcome unknown (timeout): no cancel push is expected or forbidden
}

// Push flags of booking events on private topics.
const (
	PushCreated   = 1 // booking.created (instructor) / booking.confirmed (student)
	PushCancelled = 2
	PushOther     = 4
)

// Bookings is the set of created bookings, by id.
type Bookings struct {
	mu sync.Mutex
	M  map[string]*BookingRec
}

func (b *Bookings) Add(r *BookingRec) {
	b.mu.Lock()
	b.M[r.ID] = r
	b.mu.Unlock()
}

func (b *Bookings) Update(id string, f func(*BookingRec)) {
	b.mu.Lock()
	if r := b.M[id]; r != nil {
		f(r)
	}
	b.mu.Unlock()
}

func (b *Bookings) Get(id string) *BookingRec {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.M[id]
}

func (b *Bookings) All() []*BookingRec {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*BookingRec, 0, len(b.M))
	for _, r := range b.M {
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
