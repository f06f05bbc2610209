package hub

import (
	"encoding/json"
	"slices"
	"time"

	"instainstru/market"
)

// topic is the ordering core of one topic on this node: which subscribers
// are live, which wait for history, and the seq the live stream has reached.
// It is pure — no goroutines, no clock, no I/O, no logging. Its methods take
// what happened (a client's request, a broker event, the reply to an I/O
// request) and hand out, one action at a time and in order, what must be
// done: frames to queue, and I/O or timers to start, whose results come back
// through reply. Actions are carried out as they are handed out, so a fan-out
// reaches exactly the subscribers live at that point. The shard goroutine
// owns a topic, so it needs no locks; topic_test.go drives it with a fake
// history and broker.
//
// The promise to every subscriber: once accepted at seq s (its ack or
// welcome carries s), it receives s+1, s+2, … exactly once and in order, and
// a subscriber that asked for since < s first receives since+1 … s.
type topic struct {
	name  string
	lim   topicLimits
	state topicState
	last  int64 // highest seq fanned out: every seq ≤ last has been delivered once, in order

	subs []*Client       // live subscribers; fan-out walks a slice, cheaper than a map at 10k
	idx  map[*Client]int // position in subs, for O(1) removal

	// pending subscribers wait for the join (state joining) or for their
	// replay from history (state live); they are not in subs.
	pending []*pendingSub

	early map[int64]market.Event // arrived past a gap (or before the join finished)

	// I/O and timers in flight, by the id their reply carries; 0 = none.
	// inflight counts every outstanding request, so the shard keeps the
	// topic (and stale replies never meet a newer topic of the same name).
	nextID, joinID, leaveID, fetchID, gapID, retryID uint64
	inflight                                         int
	again                                            bool // read history again when the current read returns
	resync                                           bool // the broker (re)subscribed during the join: read history after it
}

type topicState uint8

const (
	topicIdle    topicState = iota // no broker subscription; gone once nothing is in flight
	topicJoining                   // broker subscribe + current seq read in flight
	topicLive                      // subscribed, last is known
	topicLeaving                   // broker unsubscribe in flight
)

// topicLimits bound what one topic keeps and reads at a time.
type topicLimits struct {
	replayLimit int           // most events a subscriber is sent from history; more → reset
	page        int           // events per history read
	maxEarly    int           // events kept while waiting for a gap (or the join)
	reorderWait time.Duration // an event past a gap waits this long before history is read
	gapRetry    time.Duration // history could not fill the gap yet: look again after this
	errRetry    time.Duration // a history read failed: try again after this
}

func defaultTopicLimits(replayLimit int) topicLimits {
	return topicLimits{
		replayLimit: replayLimit,
		page:        1000,
		maxEarly:    4096,
		// Publishes of one topic from two nodes overtake each other by well
		// under this, so the common case costs no database read.
		reorderWait: 25 * time.Millisecond,
		gapRetry:    200 * time.Millisecond,
		errRetry:    500 * time.Millisecond,
	}
}

// subReq is one subscribe request; the core reads only client and since and
// hands the rest back in actAccept/actFail/actCancel.
type subReq struct {
	client *Client
	since  *int64
	reqID  json.RawMessage        // echoed in the ack or error; nil for automatic subscriptions
	first  func(seq int64) []byte // the welcome, queued once the subscription is live
	gen    uint64                 // the client's request number, so a failure forgets only this request
}

// pendingSub is a subscriber waiting for its join or replay. While the
// replay read is out, live events are buffered for it, so the seam closes
// the moment the read returns: replay (next, upto], then buf, then live.
type pendingSub struct {
	req     subReq
	counted bool   // the subscriber was live before (it re-subscribed with since)
	liveTo  int64  // if counted: the live stream it already has reaches here
	readID  uint64 // replay read in flight; 0 while waiting for the join (or ahead)
	ahead   int64  // > 0: the client is ahead of the node and goes live when last reaches it
	next    int64  // last seq sent to it
	upto    int64  // replay reads history up to here; buf holds (upto, last]
	buf     []market.Event
	queued  []subReq // the same client's later requests for this topic, answered in order after this one
}

// sink carries out a topic's actions (the shard; a recorder in tests). It
// must not call back into the topic.
type sink interface {
	do(t *topic, a action)
}

// actKind is what the shard must do.
type actKind uint8

const (
	actFanout actKind = iota // queue ev on every live subscriber (one encode)
	actSend                  // queue ev on req.client (replayed or buffered)
	actReset                 // queue reset(seq) on req.client
	actAccept                // req is live at seq: queue its welcome and/or ack
	actFail                  // req failed: error frame (or close, for the welcome); forget it
	actRefuse                // req's replay failed, but the client stays subscribed: error frame only
	actCancel                // req was unsubscribed before it completed
	actSubs                  // live subscriptions changed by n (the gauge)
	actJoin                  // I/O: broker.Subscribe, then history.TopicSeq → reply{id, seq, err}
	actLeave                 // I/O: broker.Unsubscribe → reply{id}
	actFetch                 // I/O: history after seq, limit → reply{id, evs, err} (gap fill)
	actReplay                // I/O: history after seq, limit → reply{id, evs, err} (req.client's replay)
	actTimer                 // reply{id} after d
)

type action struct {
	kind   actKind
	ev     market.Event
	req    subReq
	seq    int64
	n      int
	id     uint64
	d      time.Duration
	replay bool // actSend: from history (counted as a replay)
}

// reply is the result of an actJoin, actLeave, actFetch, actReplay or actTimer.
type reply struct {
	id  uint64
	seq int64
	evs []market.Event
	err error
}

func newTopic(name string, lim topicLimits) *topic {
	return &topic{name: name, lim: lim, idx: map[*Client]int{}}
}

// gone reports whether the shard may forget t: nothing subscribed, waiting
// or in flight.
func (t *topic) gone() bool {
	return t.state == topicIdle && t.inflight == 0 && len(t.pending) == 0
}

func (t *topic) request(out sink, a action) uint64 {
	t.nextID++
	t.inflight++
	a.id = t.nextID
	out.do(t, a)
	return a.id
}

func (t *topic) timer(out sink, d time.Duration) uint64 {
	return t.request(out, action{kind: actTimer, d: d})
}

// subscribe handles a client's subscribe request.
func (t *topic) subscribe(out sink, r subReq) {
	if p := t.pendingOf(r.client); p != nil {
		p.queued = append(p.queued, r) // answered in order once p completes
		return
	}
	switch t.state {
	case topicLive:
		t.admit(out, r, t.isLive(r.client), nil)
	case topicIdle:
		t.join(out)
		fallthrough
	default: // joining, leaving: wait for the join
		t.pending = append(t.pending, &pendingSub{req: r})
	}
}

func (t *topic) join(out sink) {
	t.state = topicJoining
	t.resync = false
	t.joinID = t.request(out, action{kind: actJoin})
}

// admit places r on a live topic: live at once when there is nothing to
// replay, otherwise pending until its replay read returns.
func (t *topic) admit(out sink, r subReq, counted bool, queued []subReq) {
	c := r.client
	switch {
	case r.since == nil || *r.since == t.last:
	case *r.since > t.last:
		// The client's snapshot was read after commits whose events are
		// still on their way to this node: it is ahead of the node. It waits
		// off the live set while history after last is read, and goes live
		// when last reaches its since (deliver), so it gets neither a reset
		// nor an event twice. If history ends short of since, its state is
		// from another history (a reset database): fetched resets it.
		if counted {
			t.remove(c)
		}
		t.pending = append(t.pending, &pendingSub{req: r, counted: counted, ahead: *r.since, queued: queued})
		t.fetch(out)
		return
	case t.last-*r.since > int64(t.lim.replayLimit):
		// More than its queue could take: refetching the snapshot is cheaper.
		out.do(t, action{kind: actReset, req: r, seq: t.last})
	default:
		if counted {
			t.remove(c) // off the live set until the replay is through, so nothing overtakes it
		}
		p := &pendingSub{req: r, counted: counted, next: *r.since, upto: t.last, queued: queued}
		if counted {
			p.liveTo = t.last
		}
		t.pending = append(t.pending, p)
		t.readReplay(out, p)
		return
	}
	t.goLive(out, r, counted, queued)
}

func (t *topic) goLive(out sink, r subReq, counted bool, queued []subReq) {
	t.add(r.client)
	if !counted {
		out.do(t, action{kind: actSubs, n: 1})
	}
	out.do(t, action{kind: actAccept, req: r, seq: t.last})
	for _, q := range queued {
		t.subscribe(out, q)
	}
}

func (t *topic) readReplay(out sink, p *pendingSub) {
	p.readID = t.request(out, action{kind: actReplay, req: p.req, seq: p.next, n: int(min(p.upto-p.next, int64(t.lim.page)))})
}

// unsubscribe removes c, live or pending. Pending requests are answered
// with actCancel unless the client is gone (quiet).
func (t *topic) unsubscribe(out sink, c *Client, quiet bool) {
	if p := t.pendingOf(c); p != nil {
		t.dropPending(p)
		if p.counted {
			out.do(t, action{kind: actSubs, n: -1})
		}
		if !quiet {
			for _, r := range append([]subReq{p.req}, p.queued...) {
				out.do(t, action{kind: actCancel, req: r})
			}
		}
	} else if t.remove(c) {
		out.do(t, action{kind: actSubs, n: -1})
	}
	t.leaveIfUnused(out)
}

// leaveIfUnused gives up the broker subscription of a live topic that
// nobody watches or waits for. A joining topic leaves when its join returns,
// so Subscribe and Unsubscribe of one topic never run at the same time.
func (t *topic) leaveIfUnused(out sink) {
	if t.state != topicLive || len(t.subs) > 0 || len(t.pending) > 0 {
		return
	}
	t.leave(out)
}

func (t *topic) leave(out sink) {
	t.state = topicLeaving
	clear(t.early)
	t.early = nil
	// Replies to reads and timers still out are stale from now on.
	t.fetchID, t.gapID, t.retryID, t.again = 0, 0, 0, false
	t.leaveID = t.request(out, action{kind: actLeave})
}

// event handles an event from the broker. An older seq is a duplicate (the
// relay, or a second publish) and is dropped. A newer one arrived past a gap
// (publishes from different nodes overtake each other): it waits a moment
// for the missing seqs, which are then read from history if still missing —
// any seq below a committed one is committed.
func (t *topic) event(out sink, ev market.Event) {
	switch t.state {
	case topicLive:
		if ev.Seq <= t.last {
			return
		}
		if ev.Seq == t.last+1 {
			t.deliver(out, ev)
			t.drainEarly(out)
			return
		}
		t.keepEarly(ev)
		t.scheduleGapCheck(out, t.lim.reorderWait)
	case topicJoining:
		// The current seq is not known yet: keep it, the join sorts it out.
		t.keepEarly(ev)
	}
}

func (t *topic) keepEarly(ev market.Event) {
	if t.early == nil {
		t.early = map[int64]market.Event{}
	}
	if len(t.early) < t.lim.maxEarly {
		// Past the cap (history unreadable for a long while) the event is
		// not kept: the history read that fills the gap reads it too.
		t.early[ev.Seq] = ev
	}
}

// deliver fans ev out (it is last+1) and buffers it for replaying subscribers.
func (t *topic) deliver(out sink, ev market.Event) {
	t.last = ev.Seq
	if len(t.subs) > 0 {
		out.do(t, action{kind: actFanout, ev: ev})
	}
	var over, caught []*pendingSub
	for _, p := range t.pending {
		if p.ahead > 0 && p.ahead == t.last {
			caught = append(caught, p)
			continue
		}
		if p.readID == 0 {
			continue // waits for the join, or for last to reach its since
		}
		if len(p.buf) >= t.lim.replayLimit {
			over = append(over, p)
			continue
		}
		p.buf = append(p.buf, ev)
	}
	// More went by during its replay than the replay limit allows: like a
	// since that is too old, the client is sent reset and joins live after
	// ev. Its read, still out, is answered to no one.
	for _, p := range over {
		t.dropPending(p)
		out.do(t, action{kind: actReset, req: p.req, seq: t.last})
		t.goLive(out, p.req, p.counted, p.queued)
	}
	// Clients that were ahead of the node have every event up to here.
	for _, p := range caught {
		t.dropPending(p)
		t.goLive(out, p.req, p.counted, p.queued)
	}
}

// drainEarly delivers waiting events that have become next in line and
// forgets those at or below last.
func (t *topic) drainEarly(out sink) {
	for len(t.early) > 0 {
		ev, ok := t.early[t.last+1]
		if !ok {
			break
		}
		delete(t.early, ev.Seq)
		t.deliver(out, ev)
	}
	for seq := range t.early {
		if seq <= t.last {
			delete(t.early, seq)
		}
	}
	if len(t.early) == 0 {
		t.early = nil
	}
}

func (t *topic) scheduleGapCheck(out sink, d time.Duration) {
	if t.gapID == 0 {
		t.gapID = t.timer(out, d)
	}
}

// resynced handles the broker's (re)subscription of the topic: events may
// have been published while it was down, so history after last is read.
func (t *topic) resynced(out sink) {
	switch t.state {
	case topicLive:
		t.fetch(out)
	case topicJoining:
		t.resync = true
	}
}

// fetch reads history after last (gap fill, resync), one read at a time.
func (t *topic) fetch(out sink) {
	if t.fetchID != 0 {
		t.again = true
		return
	}
	t.fetchID = t.request(out, action{kind: actFetch, seq: t.last, n: t.lim.page})
}

// reply handles the result of a request t made.
func (t *topic) reply(out sink, r reply) {
	t.inflight--
	switch {
	case r.id == 0:
	case r.id == t.joinID:
		t.joinID = 0
		t.joined(out, r)
	case r.id == t.leaveID:
		t.leaveID = 0
		t.left(out)
	case r.id == t.fetchID:
		t.fetchID = 0
		t.fetched(out, r)
	case r.id == t.gapID:
		t.gapID = 0
		if len(t.early) > 0 {
			t.fetch(out)
		}
	case r.id == t.retryID:
		t.retryID = 0
		t.resynced(out)
	default:
		for _, p := range t.pending {
			if p.readID == r.id {
				t.replayed(out, p, r)
				return
			}
		}
		// A stale reply: its subscriber left, or its topic left meanwhile.
	}
}

// joined finishes the join: the broker was subscribed before the seq was
// read, so every later event is either ≤ seq (already counted) or arrives
// live. Waiting subscribers are admitted in arrival order.
func (t *topic) joined(out sink, r reply) {
	waiting := t.pending
	t.pending = nil
	if r.err != nil {
		for _, p := range waiting {
			for _, q := range append([]subReq{p.req}, p.queued...) {
				out.do(t, action{kind: actFail, req: q})
			}
		}
		// The broker may hold the subscription: give it back.
		t.leave(out)
		return
	}
	t.state = topicLive
	t.last = r.seq
	for _, p := range waiting {
		t.admit(out, p.req, false, p.queued)
	}
	t.drainEarly(out)
	if len(t.early) > 0 {
		t.scheduleGapCheck(out, t.lim.reorderWait)
	}
	if t.resync {
		t.resync = false
		t.fetch(out)
	}
	t.leaveIfUnused(out) // everyone left while the join was out
}

func (t *topic) left(out sink) {
	if len(t.pending) > 0 {
		t.join(out) // someone subscribed while the broker unsubscribed
		return
	}
	t.state = topicIdle
}

// fetched handles a gap-fill read.
func (t *topic) fetched(out sink, r reply) {
	if r.err != nil {
		t.again = false
		if t.retryID == 0 {
			t.retryID = t.timer(out, t.lim.errRetry)
		}
		return
	}
	for _, e := range r.evs {
		if e.Seq == t.last+1 {
			t.deliver(out, e)
		}
	}
	t.drainEarly(out)
	switch {
	case len(r.evs) >= t.lim.page || t.again:
		t.again = false
		t.fetch(out) // more pages, or asked again meanwhile
	case len(t.early) > 0:
		// Still a gap history could not fill (not committed yet as seen by
		// this read, or pruned): look again shortly, without spinning.
		t.scheduleGapCheck(out, t.lim.gapRetry)
	default:
		// History is read to its end: a client still ahead of it claims
		// more than exists (another history). Start it over.
		for _, p := range slices.Clone(t.pending) {
			if p.ahead > t.last {
				t.dropPending(p)
				out.do(t, action{kind: actReset, req: p.req, seq: t.last})
				t.goLive(out, p.req, p.counted, p.queued)
			}
		}
	}
}

// replayed handles one page of p's replay.
func (t *topic) replayed(out sink, p *pendingSub, r reply) {
	p.readID = 0
	if r.err != nil {
		t.dropPending(p)
		if p.counted {
			// It was live before: its live stream goes on unbroken, only
			// the replay it asked for is refused.
			out.do(t, action{kind: actRefuse, req: p.req})
			p.next = max(p.next, p.liveTo)
			t.finish(out, p, false)
			return
		}
		out.do(t, action{kind: actFail, req: p.req})
		for _, q := range p.queued {
			t.subscribe(out, q)
		}
		t.leaveIfUnused(out)
		return
	}
	if len(r.evs) == 0 || r.evs[0].Seq != p.next+1 {
		// Pruned past retention: the client must refetch the snapshot.
		t.dropPending(p)
		out.do(t, action{kind: actReset, req: p.req, seq: t.last})
		t.goLive(out, p.req, p.counted, p.queued)
		return
	}
	for _, e := range r.evs {
		if e.Seq != p.next+1 || e.Seq > p.upto {
			break
		}
		out.do(t, action{kind: actSend, req: p.req, ev: e, replay: true})
		p.next = e.Seq
	}
	if p.next < p.upto {
		t.readReplay(out, p)
		return
	}
	t.dropPending(p)
	t.finish(out, p, true)
}

// finish closes p's seam: the buffered live events, then the live set.
func (t *topic) finish(out sink, p *pendingSub, accept bool) {
	for _, e := range p.buf {
		if e.Seq == p.next+1 {
			out.do(t, action{kind: actSend, req: p.req, ev: e})
			p.next = e.Seq
		}
	}
	p.buf = nil
	if !accept {
		t.add(p.req.client)
		for _, q := range p.queued {
			t.subscribe(out, q)
		}
		return
	}
	t.goLive(out, p.req, p.counted, p.queued)
}

func (t *topic) pendingOf(c *Client) *pendingSub {
	for _, p := range t.pending {
		if p.req.client == c {
			return p
		}
	}
	return nil
}

func (t *topic) dropPending(p *pendingSub) {
	for i, q := range t.pending {
		if q == p {
			t.pending = append(t.pending[:i], t.pending[i+1:]...)
			return
		}
	}
}

func (t *topic) isLive(c *Client) bool {
	_, ok := t.idx[c]
	return ok
}

func (t *topic) add(c *Client) bool {
	if _, ok := t.idx[c]; ok {
		return false
	}
	t.idx[c] = len(t.subs)
	t.subs = append(t.subs, c)
	return true
}

func (t *topic) remove(c *Client) bool {
	i, ok := t.idx[c]
	if !ok {
		return false
	}
	last := len(t.subs) - 1
	t.subs[i] = t.subs[last]
	t.idx[t.subs[i]] = i
	t.subs[last] = nil
	t.subs = t.subs[:last]
	delete(t.idx, c)
	return true
}
