package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"instainstru/market"
)

// Close codes of the protocol (SPEC §5).
const (
	StatusTokenExpired   = 4001
	StatusSlowConsumer   = 4008
	StatusTooManyFrames  = 4029
	StatusTooBig         = 1009
	StatusServiceRestart = 1012
	statusAbnormal       = 1006
	statusInternalError  = 1011
)

// Identity is who a connection is, decided at upgrade by the http layer.
type Identity struct {
	UserID    string    // "" for anonymous
	Auth      string    // anonymous | token | ticket
	Expires   time.Time // credentials expire here; zero = never (anonymous)
	RequestID string
	Frames    *FrameBudget // the connection's frame allowance, shared with the ping hook; nil = a fresh one
	Gate      TopicGate    // nil = every well-formed topic the connection may watch is admitted
}

// TopicGate is the front end's say on a connection's subscriptions, asked
// before the hub subscribes its broker: Admit returns an error code and
// message to refuse topic ("" admits it); Release is called once for each
// admitted topic the connection stops watching (unsubscribe, a refused
// subscribe, or the end of the connection), and must ignore topics it
// never admitted.
type TopicGate interface {
	Admit(ctx context.Context, topic string) (code, msg string)
	Release(topic string)
}

// Authenticator verifies an access token sent in an `auth` frame.
type Authenticator func(ctx context.Context, token string) (userID string, expires time.Time, err error)

// Client is one WebSocket connection.
type Client struct {
	h      *Hub
	ws     *websocket.Conn
	wire   *Wire   // the socket: pre-framed messages go to it directly
	w      *writer // the writer loop this connection's frames go through
	id     string
	userID string
	auth   string
	reauth Authenticator
	q      *queue

	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	code      int
	reason    string
	readDone  chan struct{} // closed when the read side has stopped for good
	ping      *time.Timer
	awaitPong atomic.Bool // a keepalive ping is out and unanswered

	// topics this connection asked for, each with the number of its latest
	// subscribe request: the read loop adds, the shard forgets a request it
	// refused (so a failed subscribe does not count against the limit).
	topicsMu sync.Mutex
	topics   map[string]uint64
	reqs     uint64 // subscribe requests so far (guarded by topicsMu)

	// Owned by the read side.
	frames *FrameBudget
	gate   TopicGate // nil: no front-end check (Identity.Gate)
	expiry *time.Timer
}

// inbound is a client frame.
type inbound struct {
	ID    json.RawMessage `json:"id"`
	Type  string          `json:"type"`
	Topic string          `json:"topic"`
	Since *int64          `json:"since"`
	Token string          `json:"token"`

	ConversationID string `json:"conversation_id"` // typing
}

// Serve takes over an accepted connection and returns; the hub closes it
// when it ends. wire is the socket under ws (see Wire): messages, framed
// once per event, are written to it directly by the writer loops. An idle
// connection holds no goroutine of its own but a parked reader with a
// minimal stack (see park). Signed-in users join their private topic
// automatically.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, wire *Wire, id Identity, reauth Authenticator) {
	c := &Client{
		h: h, ws: ws, wire: wire, id: uuid.NewString(), userID: id.UserID, auth: id.Auth, reauth: reauth,
		q:        newQueue(h.opts.QueueFrames, h.opts.QueueBytes),
		readDone: make(chan struct{}),
		topics:   map[string]uint64{},
		frames:   id.Frames,
		gate:     id.Gate,
	}
	if wire.raw != nil {
		c.w = h.nextWriter()
		if c.w.ring != nil {
			wire.attach(c.w.ring.r)
		}
	}
	if c.frames == nil {
		c.frames = h.NewFrameBudget()
	}
	c.frames.client.Store(c)
	ws.SetReadLimit(h.opts.MaxFrameBytes)
	// Before register: once registered, DisconnectUser or Shutdown may
	// close c at once, and finish reads c.cancel.
	c.ctx, c.cancel = context.WithCancel(ctx)
	if !h.register(c) {
		c.cancel()
		ws.Close(StatusServiceRestart, "server restarting") //nolint:errcheck
		return
	}
	h.metrics.connected(c.auth)
	if !id.Expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(id.Expires), func() { c.closeWith(StatusTokenExpired, "token expired") })
	}

	// The welcome is queued once the private topic is live, so a client
	// that has it cannot miss a later event of that topic.
	var welcomeTopics []string
	if c.userID != "" {
		welcomeTopics = []string{market.UserTopic(c.userID)}
	}
	welcome := func(seq int64) []byte {
		m := map[string]any{
			"type": "welcome", "connection_id": c.id, "user_id": nullable(c.userID),
			"node": h.opts.NodeID, "topics": welcomeTopics,
		}
		if len(welcomeTopics) > 0 {
			// The private topic's seq at join: events after it follow.
			m["seqs"] = map[string]int64{welcomeTopics[0]: seq}
		}
		return mustJSON(m)
	}
	if len(welcomeTopics) == 0 {
		c.enqueue(textFrame(welcome(0), time.Time{}))
	}
	for _, t := range welcomeTopics {
		gen, _ := c.want(t, 0)
		h.send(command{kind: cmdSubscribe, topic: t, req: subReq{client: c, first: welcome, gen: gen}})
	}

	c.ping = time.AfterFunc(time.Hour, c.keepalive) // armed below, after c.ping is set
	c.ping.Reset(h.opts.PingInterval)
	c.readMessages()
}

// end is the last thing a connection does, once its socket is closed.
func (c *Client) end() {
	c.cancel()
	c.ping.Stop()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.topicsMu.Lock()
	for t := range c.topics {
		c.h.send(command{kind: cmdUnsubscribe, topic: t, req: subReq{client: c}, quiet: true})
		c.unwatched(t)
		c.release(t)
	}
	clear(c.topics) // a late refusal (forget) must not unwatch twice
	c.topicsMu.Unlock()
	c.h.unregister(c)
	c.h.metrics.disconnected(c.auth, c.code)
}

// enqueue queues a frame; a full queue makes c a slow consumer (4008).
func (c *Client) enqueue(f frame) bool {
	ok, start := c.q.push(f)
	if start {
		c.schedule()
	}
	if ok {
		return true
	}
	c.slow()
	return false
}

func (c *Client) slow() {
	c.h.metrics.count(drops)
	c.closeWith(StatusSlowConsumer, "slow consumer")
}

// schedule gets c's queue written: by its writer loop, or (without a raw
// socket writer) by a goroutine of its own.
func (c *Client) schedule() {
	if c.w != nil {
		c.w.post(c)
		return
	}
	go c.writeLoop(nil)
}

// closeWith records why c closes (first reason wins) and wakes the writer,
// which sends the close frame.
func (c *Client) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.code, c.reason = code, reason
		if code == StatusSlowConsumer {
			c.h.metrics.count(slowConsumers)
		}
		if c.q.close() {
			c.schedule()
		}
	})
}

// readMessages handles every client frame already buffered, then parks the
// read side on a fresh goroutine and returns. Ping and pong control frames
// are answered here, from the buffer, rather than by the library, whose
// Read would consume them and then block — with this deep stack — until
// the next message.
func (c *Client) readMessages() {
	br := c.wire.br
	for {
		if br.Buffered() == 0 {
			go c.park()
			return
		}
		if n := c.control(); n > 0 {
			continue
		} else if n < 0 { // a control frame in part: wait for the rest
			if _, err := br.Peek(-n); err != nil {
				c.readEnd(err)
				return
			}
			continue
		}
		// A context that never ends: a blocked Read ends when the socket
		// closes, and the library registers nothing per call.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.readEnd(err)
			return
		}
		c.h.metrics.count(received)
		if !c.frames.lim.Allow() {
			c.closeWith(StatusTooManyFrames, "too many messages")
			c.readEnd(nil)
			return
		}
		var in inbound
		if typ != websocket.MessageText || json.Unmarshal(data, &in) != nil {
			c.replyError(nil, "bad_frame", "frames must be JSON text objects")
			continue
		}
		c.handle(c.ctx, in)
	}
}

// park waits for the client's next bytes. It runs on a new goroutine whose
// stack stays minimal (only the poller's wait is below it): this is all an
// idle connection holds, instead of a read loop's grown stack.
func (c *Client) park() {
	if _, err := c.wire.br.Peek(1); err != nil {
		c.readEnd(err)
		return
	}
	c.readMessages()
}

// readEnd stops the read side for good (err nil: c is already closing).
func (c *Client) readEnd(err error) {
	if err != nil {
		code := int(websocket.CloseStatus(err))
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			code = StatusTooBig // the library already sent 1009
		case code == -1:
			code = statusAbnormal
		}
		c.closeWith(code, "")
	}
	close(c.readDone)
}

// control takes a complete ping or pong frame from the head of the read
// buffer: n > 0 bytes taken, n < 0 the frame needs -n bytes buffered, 0 the
// head is something else (the library reads it).
func (c *Client) control() int {
	br := c.wire.br
	b, _ := br.Peek(min(2, br.Buffered()))
	if len(b) == 0 {
		return 0
	}
	op := b[0] & 0x0F
	if b[0]&0xF0 != 0x80 || (op != opPing && op != opPong) {
		return 0 // not a final, plain ping/pong
	}
	if len(b) < 2 {
		return -2
	}
	if b[1]&0x80 == 0 || b[1]&0x7F > 125 {
		return 0 // unmasked or too long: the library refuses it
	}
	total := 2 + 4 + int(b[1]&0x7F)
	if br.Buffered() < total {
		return -total
	}
	b, _ = br.Peek(total)
	switch {
	case !c.frames.lim.Allow(): // pongs too: an unasked one costs a read like a ping
		c.closeWith(StatusTooManyFrames, "too many messages")
	case op == opPong:
		if c.awaitPong.CompareAndSwap(true, false) {
			c.ping.Reset(c.h.opts.PingInterval)
		}
	default:
		payload := make([]byte, total-6)
		for i := range payload {
			payload[i] = b[6+i] ^ b[2+i%4]
		}
		c.enqueue(controlFrame(opPong, payload))
	}
	br.Discard(total) //nolint:errcheck // total bytes are buffered
	return total
}

func (c *Client) handle(ctx context.Context, in inbound) {
	switch in.Type {
	case "ping":
		c.enqueue(textFrame(mustJSON(map[string]any{"type": "pong", "id": in.ID}), time.Time{}))
	case "subscribe":
		if code, msg := c.mayWatch(in.Topic); code != "" {
			c.replyError(in.ID, code, msg)
			return
		}
		if in.Since != nil && *in.Since < 0 {
			c.replyError(in.ID, "bad_frame", "since must be ≥ 0")
			return
		}
		if c.gate != nil {
			if code, msg := c.gate.Admit(ctx, in.Topic); code != "" {
				c.replyError(in.ID, code, msg)
				return
			}
		}
		gen, ok := c.want(in.Topic, c.h.opts.MaxSubscriptions)
		if !ok {
			c.release(in.Topic)
			c.replyError(in.ID, "too_many_subscriptions", "subscription limit reached")
			return
		}
		c.h.send(command{kind: cmdSubscribe, topic: in.Topic, req: subReq{client: c, since: in.Since, reqID: orNull(in.ID), gen: gen}})
	case "unsubscribe":
		if c.unwant(in.Topic) {
			c.h.send(command{kind: cmdUnsubscribe, topic: in.Topic, req: subReq{client: c}})
		}
		c.ack(in.ID, in.Topic)
	case "auth":
		c.refresh(ctx, in)
	case "typing":
		c.typing(ctx, in)
	default:
		c.replyError(in.ID, "unknown_type", "unknown frame type")
	}
}

// refresh accepts a new access token for the same user and moves the
// connection's expiry; a token for someone else is refused.
func (c *Client) refresh(ctx context.Context, in inbound) {
	if c.userID == "" || c.reauth == nil {
		c.replyError(in.ID, "forbidden", "anonymous connections cannot authenticate; reconnect with a token")
		return
	}
	uid, exp, err := c.reauth(ctx, in.Token)
	if err != nil {
		c.replyError(in.ID, "unauthorized", "token rejected")
		return
	}
	if uid != c.userID {
		c.replyError(in.ID, "forbidden", "token belongs to another user")
		return
	}
	if c.expiry != nil {
		c.expiry.Reset(time.Until(exp))
	}
	c.ack(in.ID, "")
}

// mayWatch checks a topic name and whether this connection may watch it.
func (c *Client) mayWatch(topic string) (code, msg string) {
	if id, ok := strings.CutPrefix(topic, "availability:"); ok {
		// Only the canonical form: events are published under it, so an
		// upper-case or urn:uuid: spelling would be a topic that never fires.
		if len(id) != 36 || uuid.Validate(id) != nil || strings.ToLower(id) != id {
			return "bad_topic", "availability topics take the instructor id as a lower-case UUID: availability:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
		}
		return "", ""
	}
	if owner := market.TopicOwner(topic); owner != "" {
		if c.userID == "" || owner != c.userID {
			return "forbidden", "private topic of another user"
		}
		return "", ""
	}
	return "bad_topic", "unknown topic"
}

// want records a subscribe request for topic and returns its number; it
// refuses a new topic past limit (0: no limit).
func (c *Client) want(topic string, limit int) (gen uint64, ok bool) {
	c.topicsMu.Lock()
	defer c.topicsMu.Unlock()
	_, had := c.topics[topic]
	if !had && limit > 0 && len(c.topics) >= limit {
		return 0, false
	}
	c.reqs++
	c.topics[topic] = c.reqs
	if !had {
		c.watched(topic)
	}
	return c.reqs, true
}

// unwant forgets topic; false if it was not asked for.
func (c *Client) unwant(topic string) bool {
	c.topicsMu.Lock()
	defer c.topicsMu.Unlock()
	_, ok := c.topics[topic]
	delete(c.topics, topic)
	if ok {
		c.unwatched(topic)
		c.release(topic)
	}
	return ok
}

// release tells the gate that topic is no longer watched.
func (c *Client) release(topic string) {
	if c.gate != nil {
		c.gate.Release(topic)
	}
}

// forget drops topic after the shard refused request gen, unless a later
// request for it is on its way.
func (c *Client) forget(topic string, gen uint64) {
	c.topicsMu.Lock()
	defer c.topicsMu.Unlock()
	if g, ok := c.topics[topic]; ok && g == gen {
		delete(c.topics, topic)
		c.unwatched(topic)
		c.release(topic)
	}
}

func (c *Client) ack(id json.RawMessage, topic string) {
	if id == nil {
		return
	}
	m := map[string]any{"type": "ack", "id": id}
	if topic != "" {
		m["topic"] = topic
	}
	c.enqueue(textFrame(mustJSON(m), time.Time{}))
}

func (c *Client) replyError(id json.RawMessage, code, msg string) {
	m := map[string]any{"type": "error", "code": code, "message": msg}
	if id != nil {
		m["id"] = id
	}
	c.enqueue(textFrame(mustJSON(m), time.Time{}))
}

// writeLoop writes c's queue on a goroutine of its own, waiting for the
// socket under the write deadline: used where the writer loop must not wait
// (first holds frames it already took) and where there is no non-blocking
// writer. It exits when the queue is empty; the next frame goes back to
// the writer loop.
func (c *Client) writeLoop(first []frame) {
	buf := first
	for {
		if len(buf) == 0 {
			var closed, more bool
			buf, closed, more = c.q.drain(buf)
			if !more {
				return
			}
			if closed {
				c.finish()
				return
			}
		}
		c.wire.mu.Lock()
		err := c.writeFrames(buf)
		c.wire.mu.Unlock()
		if err != nil {
			c.closeWith(statusAbnormal, "")
			c.ws.CloseNow() //nolint:errcheck
		} else {
			c.h.metrics.delivered(buf, time.Now())
		}
		clear(buf)
		buf = buf[:0]
	}
}

// finishPartial writes the rest of a batch the writer loop could only
// partly write, holding the write lock it was handed, then carries on as
// c's writer until the queue is empty.
func (c *Client) finishPartial(rest net.Buffers, frames []frame) {
	err := c.wire.writeBlocking(rest, c.h.opts.WriteTimeout)
	c.wire.mu.Unlock()
	if err != nil {
		c.closeWith(statusAbnormal, "")
		c.ws.CloseNow() //nolint:errcheck
	} else {
		c.h.metrics.delivered(frames, time.Now())
	}
	c.writeLoop(nil)
}

// writeFrames sends a batch with the socket deadline (the caller holds the
// write lock). Without a raw socket each message goes through the library.
func (c *Client) writeFrames(buf []frame) error {
	bufs := make(net.Buffers, len(buf))
	for i, f := range buf {
		bufs[i] = f.data
	}
	return c.wire.writeBlocking(bufs, c.h.opts.WriteTimeout)
}

// finish closes c once its queue is closed: it stops the read side (a read
// deadline in the past wakes a parked reader), sends the close frame (queued
// frames are dropped: a slow consumer or a closing node gains nothing from
// them, the client resumes by seq) and ends the connection.
func (c *Client) finish() {
	c.cancel()
	c.wire.SetReadDeadline(time.Unix(1, 0)) //nolint:errcheck
	<-c.readDone
	c.wire.SetReadDeadline(time.Time{})                //nolint:errcheck
	c.ws.Close(websocket.StatusCode(c.code), c.reason) //nolint:errcheck
	c.ws.CloseNow()                                    //nolint:errcheck // closes the socket if the handshake did not
	c.end()
}

// keepalive pings the client every PingInterval from a timer, so an idle
// connection holds no goroutine for it; the pong must come within
// WriteTimeout, or the connection is taken for dead.
func (c *Client) keepalive() {
	if c.awaitPong.Load() {
		c.closeWith(statusAbnormal, "")
		return
	}
	c.awaitPong.Store(true)
	c.ping.Reset(c.h.opts.WriteTimeout)
	c.enqueue(controlFrame(opPing, nil))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own maps of plain values reach here
	}
	return b
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// orNull keeps "no id" distinct from an id, so automatic subscriptions get no ack.
func orNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}
