package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
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
}

// Authenticator verifies an access token sent in an `auth` frame.
type Authenticator func(ctx context.Context, token string) (userID string, expires time.Time, err error)

// Client is one WebSocket connection.
type Client struct {
	h      *Hub
	ws     *websocket.Conn
	raw    net.Conn // the socket under ws: pre-framed messages go to it directly (nil: through ws)
	id     string
	userID string
	auth   string
	reauth Authenticator
	q      *queue

	ctx       context.Context
	closeOnce sync.Once
	code      int
	reason    string
	finished  chan struct{} // closed by the writer once the socket is closed
	ping      *time.Timer

	// topics this connection asked for, each with the number of its latest
	// subscribe request: the read loop adds, the shard forgets a request it
	// refused (so a failed subscribe does not count against the limit).
	topicsMu sync.Mutex
	topics   map[string]uint64
	reqs     uint64 // subscribe requests so far (guarded by topicsMu)

	// Owned by the read loop.
	frames *FrameBudget
	expiry *time.Timer
}

// inbound is a client frame.
type inbound struct {
	ID    json.RawMessage `json:"id"`
	Type  string          `json:"type"`
	Topic string          `json:"topic"`
	Since *int64          `json:"since"`
	Token string          `json:"token"`
}

// Serve runs an accepted connection until it closes. raw is the socket
// under ws (nil if unknown): messages, framed once per event, are written to
// it directly with a socket deadline instead of through ws with a context
// timer per write. Signed-in users join their private topic automatically.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, raw net.Conn, id Identity, reauth Authenticator) {
	c := &Client{
		h: h, ws: ws, raw: raw, id: uuid.NewString(), userID: id.UserID, auth: id.Auth, reauth: reauth,
		q:        newQueue(h.opts.QueueFrames, h.opts.QueueBytes),
		finished: make(chan struct{}),
		topics:   map[string]uint64{},
		frames:   id.Frames,
	}
	if c.frames == nil {
		c.frames = h.NewFrameBudget()
	}
	c.frames.client.Store(c)
	ws.SetReadLimit(h.opts.MaxFrameBytes)
	if !h.register(c) {
		ws.Close(StatusServiceRestart, "server restarting") //nolint:errcheck
		return
	}
	h.metrics.connected(c.auth)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.ctx = ctx
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
	c.readLoop(ctx)
	c.closeWith(statusAbnormal, "") // no-op if a reason was already set
	<-c.finished
	c.ping.Stop()

	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.topicsMu.Lock()
	for t := range c.topics {
		h.send(command{kind: cmdUnsubscribe, topic: t, req: subReq{client: c}, quiet: true})
	}
	c.topicsMu.Unlock()
	h.unregister(c)
	h.metrics.disconnected(c.auth, c.code)
}

// enqueue queues a frame; a full queue makes c a slow consumer (4008).
func (c *Client) enqueue(f frame) bool {
	ok, start := c.q.push(f)
	if start {
		go c.writeLoop()
	}
	if ok {
		return true
	}
	c.h.metrics.count(drops)
	c.closeWith(StatusSlowConsumer, "slow consumer")
	return false
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
			go c.writeLoop()
		}
	})
}

func (c *Client) readLoop(ctx context.Context) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			code := int(websocket.CloseStatus(err))
			switch {
			case strings.Contains(err.Error(), "read limited"):
				code = StatusTooBig // the library already sent 1009
			case code == -1:
				code = statusAbnormal
			}
			c.closeWith(code, "")
			return
		}
		c.h.metrics.count(received)
		if !c.frames.lim.Allow() {
			c.closeWith(StatusTooManyFrames, "too many messages")
			return
		}
		var in inbound
		if typ != websocket.MessageText || json.Unmarshal(data, &in) != nil {
			c.replyError(nil, "bad_frame", "frames must be JSON text objects")
			continue
		}
		c.handle(ctx, in)
	}
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
		gen, ok := c.want(in.Topic, c.h.opts.MaxSubscriptions)
		if !ok {
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
	if _, ok := c.topics[topic]; !ok && limit > 0 && len(c.topics) >= limit {
		return 0, false
	}
	c.reqs++
	c.topics[topic] = c.reqs
	return c.reqs, true
}

// unwant forgets topic; false if it was not asked for.
func (c *Client) unwant(topic string) bool {
	c.topicsMu.Lock()
	defer c.topicsMu.Unlock()
	_, ok := c.topics[topic]
	delete(c.topics, topic)
	return ok
}

// forget drops topic after the shard refused request gen, unless a later
// request for it is on its way.
func (c *Client) forget(topic string, gen uint64) {
	c.topicsMu.Lock()
	defer c.topicsMu.Unlock()
	if g, ok := c.topics[topic]; ok && g == gen {
		delete(c.topics, topic)
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

// writeLoop is the only writer of frames to the socket while it runs. It
// is started by the queue when frames arrive, takes all queued frames at
// once (a burst costs one wake-up), and exits when the queue is empty — or,
// once the queue is closed, sends the close frame and signals finished.
func (c *Client) writeLoop() {
	var buf []frame
	var commits []time.Time
	for {
		var closed, more bool
		buf, closed, more = c.q.drain(buf)
		if !more {
			return
		}
		if closed {
			// Queued frames are dropped: a slow consumer or a closing node
			// gains nothing from them, the client resumes by seq.
			c.ws.Close(websocket.StatusCode(c.code), c.reason) //nolint:errcheck
			close(c.finished)
			return
		}
		commits = commits[:0]
		if err := c.write(buf); err != nil {
			c.closeWith(statusAbnormal, "")
			c.ws.CloseNow() //nolint:errcheck
			continue        // the next drain sees the queue closed and finishes
		}
		for _, f := range buf {
			if !f.ts.IsZero() {
				commits = append(commits, f.ts)
			}
		}
		c.h.metrics.wrote(len(buf), commits, time.Now())
	}
}

// write sends a batch of frames. With the raw socket, the pre-framed bytes
// (shared by every connection an event goes to) go out in one writev under
// one deadline; coder/websocket's own writes (pong, ping, close) are single
// writes of whole control frames, and Go serialises writes on a socket, so
// the two never interleave inside a frame. Without it, each message goes
// through coder/websocket.
func (c *Client) write(buf []frame) error {
	if c.raw == nil {
		for _, f := range buf {
			wctx, cancel := context.WithTimeout(c.ctx, c.h.opts.WriteTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, f.payload())
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	}
	bufs := make(net.Buffers, len(buf))
	for i, f := range buf {
		bufs[i] = f.data
	}
	c.raw.SetWriteDeadline(time.Now().Add(c.h.opts.WriteTimeout)) //nolint:errcheck
	_, err := bufs.WriteTo(c.raw)
	// Clear it again: the library's later control writes must not inherit
	// a deadline that has passed.
	c.raw.SetWriteDeadline(time.Time{}) //nolint:errcheck
	return err
}

// keepalive pings the client every PingInterval from a timer, so an idle
// connection holds no goroutine for it.
func (c *Client) keepalive() {
	pctx, cancel := context.WithTimeout(c.ctx, c.h.opts.WriteTimeout)
	defer cancel()
	if err := c.ws.Ping(pctx); err != nil {
		if !errors.Is(err, context.Canceled) {
			c.closeWith(statusAbnormal, "")
		}
		return
	}
	c.ping.Reset(c.h.opts.PingInterval)
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
