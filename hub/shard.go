package hub

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"instainstru/market"
)

type cmdKind int

const (
	cmdEvent       cmdKind = iota // an event from the broker
	cmdResync                     // broker (re)subscribed: fetch what may be missed
	cmdSubscribe                  // a client subscribes, maybe with since
	cmdUnsubscribe                // a client leaves a topic
	cmdGapCheck                   // the reorder wait of a topic ran out
	cmdHistory                    // a history read for a topic came back
)

type command struct {
	kind   cmdKind
	ev     market.Event
	topic  string
	client *Client
	since  *int64
	reqID  json.RawMessage        // echoed in the ack; nil for automatic subscriptions
	first  func(seq int64) []byte // builds the frame queued once the subscription is live (the welcome)
	evs    []market.Event         // cmdHistory: events read
	err    error                  // cmdHistory: why the read failed
}

// topic is one topic's state on this node, owned by its shard goroutine.
// last is the highest seq delivered to live subscribers: every seq up to it
// has been fanned out exactly once, in order.
type topic struct {
	last int64
	subs []*Client       // fan-out walks a slice: cheaper than a map at 10k
	idx  map[*Client]int // position in subs, for O(1) removal

	early    map[int64]market.Event // arrived past a gap, waiting for the missing seqs
	checking bool                   // a gap check is scheduled
	fetching bool                   // a history read is in flight
	again    bool                   // read history again when the current read returns
}

func newTopic(last int64) *topic { return &topic{last: last, idx: map[*Client]int{}} }

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

// shard serialises everything that touches its topics, so ordering, dedupe
// and the replay→live seam need no locks.
type shard struct {
	h      *Hub
	cmds   chan command
	topics map[string]*topic
	done   <-chan struct{}
}

// reorderWait is how long an event that arrived past a gap waits for the
// missing seqs before they are read from history. Publishes of one topic
// from two nodes overtake each other by well under this, so the common
// case costs no database read.
const reorderWait = 25 * time.Millisecond

// maxEarly bounds the events one topic keeps while waiting for a gap.
const maxEarly = 4096

func (s *shard) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-s.cmds:
			switch c.kind {
			case cmdEvent:
				s.event(c.ev)
			case cmdResync:
				if t := s.topics[c.topic]; t != nil {
					s.fetch(ctx, c.topic, t)
				}
			case cmdGapCheck:
				s.gapCheck(ctx, c.topic)
			case cmdHistory:
				s.history(ctx, c)
			case cmdSubscribe:
				s.subscribe(ctx, c)
			case cmdUnsubscribe:
				s.unsubscribe(ctx, c.client, c.topic)
			}
		}
	}
}

// send queues a command for this shard from another goroutine.
func (s *shard) send(c command) {
	select {
	case s.cmds <- c:
	case <-s.done:
	}
}

// event delivers ev if it is the next seq. An older seq is a duplicate (the
// relay or a second publish) and is dropped. A newer one arrived past a gap
// (publishes from different nodes can overtake each other): it waits a
// moment for the missing seqs, which are then read from history if still
// missing — any seq below a committed one is committed. The shard never
// blocks on the database: reads run on their own goroutine and come back
// as commands.
func (s *shard) event(ev market.Event) {
	t := s.topics[ev.Topic]
	if t == nil || ev.Seq <= t.last {
		return
	}
	if ev.Seq == t.last+1 {
		s.fanout(ev.Topic, t, ev)
		s.drainEarly(ev.Topic, t)
		return
	}
	if t.early == nil {
		t.early = map[int64]market.Event{}
	}
	if len(t.early) < maxEarly {
		// Past the cap (history unreadable for a long while) the event is
		// not kept: the history read that fills the gap reads it too.
		t.early[ev.Seq] = ev
	}
	s.scheduleGapCheck(ev.Topic, t, reorderWait)
}

// drainEarly delivers waiting events that have become next in line.
func (s *shard) drainEarly(name string, t *topic) {
	for len(t.early) > 0 {
		ev, ok := t.early[t.last+1]
		if !ok {
			return
		}
		delete(t.early, ev.Seq)
		s.fanout(name, t, ev)
	}
	t.early = nil
}

func (s *shard) scheduleGapCheck(name string, t *topic, d time.Duration) {
	if t.checking {
		return
	}
	t.checking = true
	time.AfterFunc(d, func() { s.send(command{kind: cmdGapCheck, topic: name}) })
}

func (s *shard) gapCheck(ctx context.Context, name string) {
	t := s.topics[name]
	if t == nil {
		return
	}
	t.checking = false
	if len(t.early) > 0 {
		s.fetch(ctx, name, t)
	}
}

// fetch reads history after t.last on another goroutine; the result comes
// back as cmdHistory. Used to fill gaps and to resync after the broker
// (re)subscribed, when events may have been published unseen.
func (s *shard) fetch(ctx context.Context, name string, t *topic) {
	if t.fetching {
		t.again = true
		return
	}
	t.fetching = true
	after := t.last
	go func() {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		evs, err := s.h.history.EventsAfter(qctx, name, after, 1000)
		s.send(command{kind: cmdHistory, topic: name, evs: evs, err: err})
	}()
}

func (s *shard) history(ctx context.Context, c command) {
	t := s.topics[c.topic]
	if t == nil {
		return
	}
	t.fetching = false
	if c.err != nil {
		s.h.log.Warn("history read", "topic", c.topic, "after", t.last, "err", c.err)
		t.again = false
		s.retryLater(c.topic)
		return
	}
	for _, e := range c.evs {
		if e.Seq == t.last+1 {
			s.fanout(c.topic, t, e)
		}
	}
	s.drainEarly(c.topic, t)
	switch {
	case len(c.evs) == 1000 || t.again:
		t.again = false
		s.fetch(ctx, c.topic, t) // more pages, or asked again meanwhile
	case len(t.early) > 0:
		// Still a gap history could not fill (not committed yet as seen by
		// this read, or pruned): look again shortly, without spinning.
		s.scheduleGapCheck(c.topic, t, 200*time.Millisecond)
	}
}

func (s *shard) retryLater(name string) {
	time.AfterFunc(500*time.Millisecond, func() { s.send(command{kind: cmdResync, topic: name}) })
}

// fanout encodes ev once and queues it on every subscriber.
func (s *shard) fanout(name string, t *topic, ev market.Event) {
	t.last = ev.Seq
	if len(t.subs) == 0 {
		return
	}
	f := textFrame(encodeEvent(ev), ev.TS)
	for _, c := range t.subs {
		c.enqueue(f)
	}
}

// subscribe adds a client to a topic. With since, events after it are
// replayed from history before the client joins the live set; both happen
// here, between two events of the topic, so there is no gap or duplicate at
// the seam. The ack follows the replay and carries the last seq sent.
func (s *shard) subscribe(ctx context.Context, c command) {
	cl := c.client
	t := s.topics[c.topic]
	if t == nil {
		// Subscribe to the broker before reading the current seq, so every
		// later event is either ≤ last (dropped) or arrives live.
		bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := s.h.broker.Subscribe(bctx, c.topic); err != nil {
			// The broker remembers the topic and subscribes on reconnect; the
			// resync that follows fills anything missed meanwhile.
			s.h.log.Warn("broker subscribe", "topic", c.topic, "err", err)
		}
		seq, err := s.h.history.TopicSeq(bctx, c.topic)
		cancel()
		if err != nil {
			s.h.log.Warn("read topic seq", "topic", c.topic, "err", err)
			s.h.broker.Unsubscribe(ctx, c.topic) //nolint:errcheck
			if c.first != nil {
				// The private topic could not be joined: the connection is
				// useless; the client reconnects (to this or another node).
				cl.closeWith(statusInternalError, "try again")
				return
			}
			cl.subscribeFailed(c.topic, c.reqID, "unavailable", "history is unavailable, retry")
			return
		}
		t = newTopic(seq)
		s.topics[c.topic] = t
	}
	if c.since != nil && *c.since > t.last {
		s.catchUp(ctx, c.topic, t, *c.since)
	}
	if c.since != nil && *c.since < t.last {
		if !s.replay(ctx, c, t) {
			return
		}
	} else if c.since != nil && *c.since > t.last {
		// The client claims to have seen more than exists: its state is from
		// another history (e.g. a reset database). Start it over.
		s.h.metrics.count(resets)
		cl.enqueue(textFrame(encodeControl("reset", nil, c.topic, t.last), time.Time{}))
	}
	if t.add(cl) {
		s.h.metrics.addSubs(1)
	}
	if c.first != nil {
		cl.enqueue(textFrame(c.first(t.last), time.Time{}))
	}
	if c.reqID != nil {
		cl.enqueue(textFrame(encodeControl("ack", c.reqID, c.topic, t.last), time.Time{}))
	}
}

// catchUp fans out committed events (t.last, upTo] read from history. A
// client whose REST snapshot was read after commits whose events are still
// on their way to this node asks for since > t.last: it is ahead of the
// node, not from another history, and must get neither a reset nor, later,
// an event it already has. What history does not hold (a since beyond
// every commit) still ends in a reset.
func (s *shard) catchUp(ctx context.Context, name string, t *topic, upTo int64) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	evs, err := s.h.history.EventsAfter(qctx, name, t.last, int(min(upTo-t.last, int64(s.h.opts.ReplayLimit))))
	if err != nil {
		s.h.log.Warn("history read", "topic", name, "after", t.last, "err", err)
		return
	}
	for _, e := range evs {
		if e.Seq != t.last+1 {
			break
		}
		s.fanout(name, t, e)
	}
	s.drainEarly(name, t)
}

// replay queues history (since, t.last] to the client, or a reset when that
// history is gone or too long. It returns false if the client was dropped.
func (s *shard) replay(ctx context.Context, c command, t *topic) bool {
	cl, since := c.client, *c.since
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if t.last-since > int64(s.h.opts.ReplayLimit) {
		s.h.metrics.count(resets)
		return cl.enqueue(textFrame(encodeControl("reset", nil, c.topic, t.last), time.Time{}))
	}
	next := since + 1
	for next <= t.last {
		evs, err := s.h.history.EventsAfter(qctx, c.topic, next-1, int(min(t.last-next+1, 1000)))
		if err != nil {
			cl.subscribeFailed(c.topic, c.reqID, "unavailable", "history is unavailable, retry")
			return false
		}
		if len(evs) == 0 || evs[0].Seq != next {
			// Pruned past retention: the client must refetch the snapshot.
			s.h.metrics.count(resets)
			return cl.enqueue(textFrame(encodeControl("reset", nil, c.topic, t.last), time.Time{}))
		}
		for _, e := range evs {
			if e.Seq != next || e.Seq > t.last {
				break
			}
			if !cl.enqueue(textFrame(encodeEvent(e), e.TS)) {
				return false
			}
			s.h.metrics.count(replays)
			next++
		}
	}
	return true
}

func (s *shard) unsubscribe(ctx context.Context, cl *Client, name string) {
	t := s.topics[name]
	if t == nil {
		return
	}
	if !t.remove(cl) {
		return
	}
	s.h.metrics.addSubs(-1)
	if len(t.subs) == 0 {
		delete(s.topics, name)
		bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.h.broker.Unsubscribe(bctx, name); err != nil {
			s.h.log.Warn("broker unsubscribe", "topic", name, "err", err)
		}
	}
}

// tsLayout is RFC 3339 with microseconds, as the SPEC asks for event ts.
const tsLayout = "2006-01-02T15:04:05.000000Z07:00"

// encodeEvent builds the event frame by hand: it runs once per event per
// node on the fan-out path, and the fields need no escaping beyond what
// json.Marshal of the two strings gives.
func encodeEvent(ev market.Event) []byte {
	b := make([]byte, 0, 96+len(ev.Topic)+len(ev.Type)+len(ev.Data))
	b = append(b, `{"type":"event","topic":`...)
	b = appendJSONString(b, ev.Topic)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, ev.Seq, 10)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, ev.Type)
	b = append(b, `,"data":`...)
	if len(ev.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ev.Data...)
	}
	b = append(b, `,"ts":"`...)
	b = ev.TS.UTC().AppendFormat(b, tsLayout)
	b = append(b, `"}`...)
	return b
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// encodeControl builds ack/reset frames.
func encodeControl(typ string, id json.RawMessage, topic string, seq int64) []byte {
	m := struct {
		Type  string          `json:"type"`
		ID    json.RawMessage `json:"id,omitempty"`
		Topic string          `json:"topic"`
		Seq   int64           `json:"seq"`
	}{typ, id, topic, seq}
	b, _ := json.Marshal(m)
	return b
}
