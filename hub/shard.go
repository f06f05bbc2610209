package hub

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"instainstru/market"
)

type cmdKind uint8

const (
	cmdEvent       cmdKind = iota // an event from the broker
	cmdResync                     // broker (re)subscribed: fetch what may be missed
	cmdSubscribe                  // a client subscribes, maybe with since
	cmdUnsubscribe                // a client leaves a topic (quiet: because it disconnected)
	cmdReply                      // an I/O request or timer of a topic came back
	cmdEphemeral                  // a frame outside the seq'd stream for the topic's live subscribers
)

type command struct {
	kind  cmdKind
	topic string
	ev    market.Event
	req   subReq          // cmdSubscribe; cmdUnsubscribe uses req.client
	quiet bool            // cmdUnsubscribe: the client is gone, answer nothing
	reply reply           // cmdReply
	asker *topic          // cmdReply: the topic that asked, so a reply never reaches a newer one
	frame []byte          // cmdEphemeral: the JSON frame, as is
	only  map[string]bool // cmdEphemeral: only these connection ids (nil = every live subscriber)
}

// shard serialises everything that touches its topics, so ordering, dedupe
// and the replay→live seam need no locks. Its goroutine does no I/O: the
// topic core (topic.go) decides, the shard queues frames and starts reads,
// broker calls and timers on other goroutines, whose results come back
// through the inbox.
type shard struct {
	h      *Hub
	in     inbox
	topics map[string]*topic
	lim    topicLimits
	ctx    context.Context // the shard's life: I/O it starts ends with it
	batch  [][]*Client     // per writer loop: connections a fan-out made ready
}

// inbox is a shard's command queue. post never blocks, so neither the
// broker's reader, nor a connection's read loop, nor an I/O goroutine can
// be held up by a busy shard. Events past maxInbox are not queued: their
// topic is marked for a resync instead (one entry per topic), which reads
// them from history — memory stays bounded and nothing is lost.
type inbox struct {
	mu     sync.Mutex
	cmds   []command
	resync map[string]struct{}
	wake   chan struct{} // capacity 1: a pending wake-up
}

const maxInbox = 1 << 16

func newInbox() inbox { return inbox{wake: make(chan struct{}, 1)} }

func (in *inbox) post(c command) {
	in.mu.Lock()
	if c.kind == cmdEphemeral && len(in.cmds) >= maxInbox {
		in.mu.Unlock() // best effort by contract: dropped, not retried
		return
	}
	if c.kind == cmdEvent && len(in.cmds) >= maxInbox {
		if in.resync == nil {
			in.resync = map[string]struct{}{}
		}
		in.resync[c.ev.Topic] = struct{}{}
	} else {
		in.cmds = append(in.cmds, c)
	}
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// take moves everything queued into buf (reusing its storage).
func (in *inbox) take(buf []command) []command {
	in.mu.Lock()
	defer in.mu.Unlock()
	buf, in.cmds = in.cmds, buf[:0]
	for name := range in.resync {
		buf = append(buf, command{kind: cmdResync, topic: name})
	}
	in.resync = nil
	return buf
}

// send is the one way into a shard.
func (h *Hub) send(c command) {
	name := c.topic
	if c.kind == cmdEvent {
		name = c.ev.Topic
	}
	h.shardOf(name).in.post(c)
}

func (s *shard) run() {
	ctx := s.ctx
	var buf []command
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.in.wake:
		}
		buf = s.in.take(buf)
		for i := range buf {
			s.handle(&buf[i])
			buf[i] = command{} // drop references (events, clients) now
		}
	}
}

func (s *shard) handle(c *command) {
	if c.kind == cmdEvent {
		c.topic = c.ev.Topic
	}
	t := s.topics[c.topic]
	if t == nil {
		if c.kind != cmdSubscribe {
			return // nobody here watches it
		}
		t = newTopic(c.topic, s.lim)
		s.topics[c.topic] = t
	}
	switch c.kind {
	case cmdEvent:
		t.event(s, c.ev)
	case cmdResync:
		t.resynced(s)
	case cmdSubscribe:
		t.subscribe(s, c.req)
	case cmdUnsubscribe:
		t.unsubscribe(s, c.req.client, c.quiet)
	case cmdReply:
		if c.asker != t {
			return
		}
		t.reply(s, c.reply)
	case cmdEphemeral:
		s.ephemeral(t, c.frame, c.only)
	}
	if t.gone() {
		delete(s.topics, c.topic)
	}
}

// do carries out one action of t's core on the shard goroutine: frames are
// queued at once, I/O and timers start on their own goroutines.
func (s *shard) do(t *topic, a action) {
	ctx, h, c := s.ctx, s.h, a.req.client
	switch a.kind {
	case actFanout:
		// Encoded once, shared by every subscriber's queue.
		s.fanout(t.subs, textFrame(encodeEvent(a.ev), a.ev.TS))
		if owner := market.TopicOwner(t.name); owner != "" && market.EndsSessions(a.ev.Type) {
			// The account is gone (this is how a deletion on any node reaches
			// this one): the event frame above tells the client why. Only live
			// deliveries act; a replay never closes a newer connection. Off
			// the shard goroutine, which never waits on connections.
			go h.DisconnectUser(owner, StatusTokenExpired, sessionEndReason(a.ev.Type))
		}
	case actSend:
		c.enqueue(textFrame(encodeEvent(a.ev), a.ev.TS))
		if a.replay {
			h.metrics.count(replays)
		}
	case actReset:
		h.metrics.count(resets)
		c.enqueue(textFrame(encodeControl("reset", nil, t.name, a.seq), time.Time{}))
	case actAccept:
		h.live(t.name, c)
		if a.req.first != nil {
			c.enqueue(textFrame(a.req.first(a.seq), time.Time{}))
		}
		if a.req.reqID != nil {
			c.enqueue(textFrame(encodeControl("ack", a.req.reqID, t.name, a.seq), time.Time{}))
		}
	case actFail:
		c.forget(t.name, a.req.gen)
		if a.req.first != nil {
			// The private topic could not be joined: the connection is
			// useless; the client reconnects (to this or another node).
			c.closeWith(statusInternalError, "try again")
			return
		}
		c.replyError(a.req.reqID, "unavailable", "history is unavailable, retry")
	case actRefuse:
		c.replyError(a.req.reqID, "unavailable", "history is unavailable, retry")
	case actCancel:
		if a.req.reqID != nil {
			c.replyError(a.req.reqID, "unsubscribed", "unsubscribed before the subscription completed")
		}
	case actSubs:
		h.metrics.addSubs(a.n)
	case actJoin:
		go s.join(ctx, t, a.id)
	case actLeave:
		go s.leave(ctx, t, a.id)
	case actFetch, actReplay:
		go s.read(ctx, t, a.id, a.seq, a.n)
	case actTimer:
		id := a.id
		time.AfterFunc(a.d, func() { s.back(t, reply{id: id}) })
	}
}

// fanout queues f on every subscriber and wakes each writer loop once
// with the connections that became ready, so one event costs one lock and
// one wake-up per writer loop, not per connection.
func (s *shard) fanout(subs []*Client, f frame) {
	for _, c := range subs {
		ok, start := c.q.push(f)
		if start {
			if c.w != nil {
				s.batch[c.w.idx] = append(s.batch[c.w.idx], c)
			} else {
				c.schedule()
			}
		}
		if !ok {
			c.slow()
		}
	}
	for i, b := range s.batch {
		if len(b) > 0 {
			s.h.writers[i].post(b...)
			clear(b)
			s.batch[i] = b[:0]
		}
	}
}

func (s *shard) back(t *topic, r reply) {
	s.in.post(command{kind: cmdReply, topic: t.name, asker: t, reply: r})
}

// join subscribes the broker before reading the current seq, so every later
// event is either ≤ that seq or arrives live. Each call has its own
// deadline; neither runs on the shard.
func (s *shard) join(ctx context.Context, t *topic, id uint64) {
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := s.h.broker.Subscribe(bctx, t.name); err != nil {
		// The broker remembers the topic and subscribes on reconnect; the
		// resync that follows fills anything missed meanwhile.
		s.h.log.Warn("broker subscribe", "topic", t.name, "err", err)
	}
	cancel()
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	seq, err := s.h.history.TopicSeq(qctx, t.name)
	cancel()
	if err != nil {
		s.h.log.Warn("read topic seq", "topic", t.name, "err", err)
	}
	s.back(t, reply{id: id, seq: seq, err: err})
}

func (s *shard) leave(ctx context.Context, t *topic, id uint64) {
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := s.h.broker.Unsubscribe(bctx, t.name); err != nil {
		s.h.log.Warn("broker unsubscribe", "topic", t.name, "err", err)
	}
	cancel()
	s.back(t, reply{id: id})
}

func (s *shard) read(ctx context.Context, t *topic, id uint64, after int64, limit int) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	evs, err := s.h.history.EventsAfter(qctx, t.name, after, limit)
	cancel()
	if err != nil {
		s.h.log.Warn("history read", "topic", t.name, "after", after, "err", err)
	}
	s.back(t, reply{id: id, evs: evs, err: err})
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

// sessionEndReason is the close reason of a session-ending event.
func sessionEndReason(eventType string) string {
	if eventType == market.EventSessionEnded {
		return "session ended"
	}
	return "account deleted"
}
