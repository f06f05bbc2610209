package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Connection roles.
const (
	roleWatcher    = "watcher"
	roleInstructor = "instructor"
	rolePlanner    = "planner" // keeps the generator's view of open time current
	roleIdle       = "idle"
)

// wsClient is one generator WebSocket connection. After setup, only its
// reader goroutine touches its subscriptions, so the hot path takes no lock
// but the per-topic fan-out record.
type wsClient struct {
	env  *wsEnv
	node int
	url  string
	hc   *http.Client
	sess *session // nil: anonymous
	role string

	// conn is read by the reader goroutine and closed by the run's stopper;
	// atomic so a reconnect's swap and the final close cannot race.
	conn   atomic.Pointer[websocket.Conn]
	subs   map[string]*subscription
	order  []*subscription
	byID   map[int64]*subscription
	user   *subscription
	seen   map[string]uint8 // booking id → push flags (private topic)
	nextID int64

	pending   int
	ready     chan struct{}
	readyOnce sync.Once
	dead      bool

	bookingDups, unexpectedFrames int64
	connectedAt                   time.Time
	flaps                         int
}

// wsEnv is what a run shares with each of its connections.
type wsEnv struct {
	st      *stats
	readCtx context.Context // ends every reader goroutine
	readers *sync.WaitGroup // one per started reader
	home    map[string]int  // instructor id → node taking its writes (read-only)
	// applyAvailability feeds the planner's availability pushes (raw data).
	applyAvailability func(data []byte)
}

// bufPool recycles read buffers so that an idle connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (c *wsClient) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// addTopic registers a subscription to send at connect; since < 0 = live only.
func (c *wsClient) addTopic(track *topicTrack, since int64) {
	s := &subscription{topic: track.topic, track: track, since: since}
	if since >= 0 {
		s.haveLast, s.last = true, since
	}
	c.subs[s.topic] = s
	c.order = append(c.order, s)
	track.addSub(s)
}

// newWSClient makes a client of node (its WebSocket URL url); it dials in
// start. env is the run's shared state.
func newWSClient(env *wsEnv, node int, url string, hc *http.Client, sess *session, role string) *wsClient {
	c := &wsClient{
		env: env, node: node, url: url, hc: hc, sess: sess, role: role,
		subs: map[string]*subscription{}, byID: map[int64]*subscription{}, ready: make(chan struct{}),
	}
	if sess != nil {
		c.user = &subscription{topic: "user:" + sess.UserID, isUser: true, since: -1, acked: true}
		c.seen = map[string]uint8{}
	}
	return c
}

// dial opens the socket and reads the welcome frame.
func (c *wsClient) dial(ctx context.Context) error {
	opts := &websocket.DialOptions{HTTPClient: c.hc, CompressionMode: websocket.CompressionDisabled}
	if c.sess != nil {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + c.sess.Token}}
	}
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, c.url, opts)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("ws_upgrade_http_%d", resp.StatusCode)
		}
		return fmt.Errorf("ws_dial_%s", errorKind(err))
	}
	conn.SetReadLimit(1 << 20)
	_, b, err := conn.Read(dctx)
	if err != nil {
		conn.CloseNow()
		return fmt.Errorf("ws_no_welcome_%s", errorKind(err))
	}
	var f frame
	if err := parseFrame(b, &f); err != nil || string(f.Type) != "welcome" {
		conn.CloseNow()
		return errors.New("ws_bad_welcome")
	}
	if c.sess != nil && string(f.UserID) != c.sess.UserID {
		conn.CloseNow()
		return errors.New("ws_welcome_wrong_user")
	}
	c.conn.Store(conn)
	c.connectedAt = time.Now()
	c.env.st.record(hConnect, time.Since(start))
	return nil
}

func (c *wsClient) send(ctx context.Context, s *subscription, since int64) error {
	c.nextID++
	c.byID[c.nextID] = s
	bp := bufPool.Get().(*[]byte)
	b := appendSubscribe((*bp)[:0], c.nextID, s.topic, since)
	s.sentAt = time.Now()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := c.conn.Load().Write(wctx, websocket.MessageText, b)
	cancel()
	*bp = b[:0]
	bufPool.Put(bp)
	return err
}

// start connects, sends every subscribe and starts the reader; ready
// closes when every subscribe is answered.
func (c *wsClient) start(ctx context.Context) error {
	if err := c.dial(ctx); err != nil {
		return err
	}
	c.pending = len(c.order)
	for i, s := range c.order {
		c.pace(ctx, i)
		if err := c.send(ctx, s, s.since); err != nil {
			c.conn.Load().CloseNow()
			return fmt.Errorf("ws_subscribe_write_%s", errorKind(err))
		}
	}
	if c.pending == 0 {
		c.markReady()
	}
	c.env.st.connected.Add(1)
	c.env.readers.Add(1)
	go c.readLoop(c.env.readCtx)
	return nil
}

// readLoop reads until the run's read context ends. Reads themselves take
// no context (a cancellable one costs an AfterFunc registration per frame,
// on one parent shared by every connection); the stopper closes the sockets.
func (c *wsClient) readLoop(ctx context.Context) {
	defer c.env.readers.Done()
	for {
		err := c.readFrames(c.conn.Load())
		if ctx.Err() != nil {
			c.conn.Load().CloseNow()
			return
		}
		kind := "ws_read_error"
		if code := websocket.CloseStatus(err); code != -1 {
			kind = fmt.Sprintf("ws_closed_%d", int(code))
		}
		c.env.st.note("disconnect:" + kind)
		c.env.st.reconnects.Add(1)
		c.env.st.connected.Add(-1)
		if err := c.reconnect(ctx); err != nil {
			if ctx.Err() == nil {
				c.dead = true
				c.env.st.fail("ws_reconnect_failed")
			}
			c.markReady()
			return
		}
		c.env.st.connected.Add(1)
	}
}

func (c *wsClient) readFrames(conn *websocket.Conn) error {
	ctx := context.Background()
	var f frame
	for {
		_, rd, err := conn.Reader(ctx)
		if err != nil {
			return err
		}
		bp := bufPool.Get().(*[]byte)
		b, err := readAll(rd, (*bp)[:0])
		now := time.Now()
		if err != nil {
			*bp = b[:0]
			bufPool.Put(bp)
			return err
		}
		if perr := parseFrame(b, &f); perr != nil {
			c.env.st.fail("ws_bad_frame_from_server")
		} else {
			c.handle(c.env.readCtx, now, &f)
		}
		if cap(b) > 64<<10 {
			b = make([]byte, 0, 1024) // do not pool a rare huge buffer
		}
		*bp = b[:0]
		bufPool.Put(bp)
	}
}

// readAll reads r to EOF into b, growing it as needed.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (c *wsClient) handle(ctx context.Context, now time.Time, f *frame) {
	switch string(f.Type) {
	case "event":
		c.onEvent(now, f)
	case "ack":
		c.onAck(now, f)
	case "error":
		c.onError(f)
	case "reset":
		c.onReset(ctx, f)
	case "pong", "welcome":
	default:
		c.unexpectedFrames++
		c.env.st.note("ws_unknown_frame_type")
	}
}

func (c *wsClient) onEvent(now time.Time, f *frame) {
	if !f.HasSeq {
		c.env.st.fail("ws_event_without_seq")
		return
	}
	s := c.subs[string(f.Topic)]
	if s == nil {
		if c.user != nil && string(f.Topic) == c.user.topic {
			c.onUserEvent(now, f)
			return
		}
		c.env.st.fail("ws_event_on_unsubscribed_topic")
		return
	}
	if !s.acked && !s.haveLast {
		// A live-only subscribe answers ack first; an event before it is
		// kept and judged against the ack's seq.
		s.pre = append(s.pre, f.Seq)
		return
	}
	if !s.accept(f.Seq) {
		return
	}
	ts, ok := s.track.received(f.Seq, f.TS, now)
	if !ok {
		c.env.st.fail("ws_event_bad_ts")
		return
	}
	c.env.st.availRecv.Add(1)
	lat := now.Sub(ts)
	if s.track.home == c.node {
		c.env.st.record(hPushAvailSame, lat)
	} else {
		c.env.st.record(hPushAvailCross, lat)
	}
	if c.role == rolePlanner && string(f.Event) == "availability.changed" {
		c.env.applyAvailability(f.Data)
	}
}

// onUserEvent handles the connection's private topic: seq continuity (from
// the first event, since the welcome frame carries no seq) and one push per
// booking change, reconciled against the generator's own bookings later.
func (c *wsClient) onUserEvent(now time.Time, f *frame) {
	u := c.user
	if u.resyncing {
		if u.resync[f.Seq] || (u.haveLast && f.Seq <= u.last) {
			u.dups++
		} else {
			u.resync[f.Seq] = true
		}
	} else {
		u.accept(f.Seq)
	}
	var flag uint8
	switch string(f.Event) {
	case "notification.created", "notification.read":
		return // the inbox's events: seq is checked above, bookings are reconciled by their own pushes
	case "booking.created", "booking.confirmed":
		flag = pushCreated
	case "booking.cancelled":
		flag = pushCancelled
	default:
		flag = pushOther
	}
	id := jsonStringField(f.Data, "id")
	instr := jsonStringField(f.Data, "instructor_id")
	home, ours := c.env.home[string(instr)]
	if !ours || len(id) == 0 {
		c.env.st.note("push_not_from_this_run")
		return
	}
	key := string(id)
	if c.seen[key]&flag != 0 {
		c.bookingDups++
		return
	}
	c.seen[key] |= flag
	if flag == pushOther {
		return
	}
	c.env.st.bookingPushRecv.Add(1)
	ts, err := parseTS(f.TS)
	if err != nil {
		c.env.st.fail("ws_event_bad_ts")
		return
	}
	lat := now.Sub(ts)
	if home == c.node {
		c.env.st.record(hPushBookingSame, lat)
	} else {
		c.env.st.record(hPushBookingCross, lat)
	}
	if c.role == roleInstructor {
		c.env.st.record(hBookingPushInstr, lat)
	} else {
		c.env.st.record(hBookingPushStudent, lat)
	}
}

func (c *wsClient) onAck(now time.Time, f *frame) {
	s := c.byID[f.ID]
	if s == nil || !f.HasSeq {
		c.env.st.fail("ws_ack_unknown_id")
		return
	}
	delete(c.byID, f.ID)
	if s.isUser {
		s.resyncing = false
		seqs := make([]int64, 0, len(s.resync))
		for q := range s.resync {
			seqs = append(seqs, q)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for _, q := range seqs {
			s.accept(q)
		}
		s.resync = nil
		return
	}
	if s.resyncing {
		s.resyncing = false
		if f.Seq < s.last {
			c.env.st.fail("ws_ack_seq_behind_received")
		}
		return
	}
	if s.acked {
		return
	}
	s.acked = true
	c.env.st.record(hSubscribeAck, now.Sub(s.sentAt))
	if s.since >= 0 {
		// Replayed events came before this ack; the baseline is since.
		s.ackSeq = s.since
		if f.Seq < s.last {
			c.env.st.fail("ws_ack_seq_behind_received")
		}
	} else {
		s.ackSeq = f.Seq
		s.haveLast, s.last = true, f.Seq
		for _, q := range s.pre {
			if q <= f.Seq {
				s.preAck++
				continue
			}
			s.accept(q)
		}
		s.pre = nil
	}
	c.ackDone()
}

func (c *wsClient) ackDone() {
	c.pending--
	if c.pending == 0 {
		c.markReady()
	}
}

func (c *wsClient) onError(f *frame) {
	code := string(f.Code)
	if code == "" {
		code = "unknown"
	}
	c.env.st.fail("ws_error_" + code)
	if !f.HasID {
		return
	}
	if s := c.byID[f.ID]; s != nil {
		delete(c.byID, f.ID)
		if !s.acked && s.failed == "" && !s.resyncing {
			s.failed = code
			c.ackDone()
		}
	}
}

// onReset: the topic's history no longer covers our last seq. The events in
// between can only be recovered through the REST snapshot, so they count as
// skipped (a failure: a benchmark run must not outrun retained history).
func (c *wsClient) onReset(ctx context.Context, f *frame) {
	s := c.subs[string(f.Topic)]
	if s == nil {
		if c.user != nil && string(f.Topic) == c.user.topic {
			s = c.user
		} else {
			c.env.st.fail("ws_reset_unknown_topic")
			return
		}
	}
	s.resets++
	if f.HasSeq && f.Seq > s.last {
		s.resetSkipped += f.Seq - s.last
		s.last = f.Seq
	}
	if !s.acked && !s.isUser && s.failed == "" {
		// A reset answered the first subscribe: count it answered.
		s.acked, s.ackSeq = true, s.last
		c.ackDone()
	}
	s.resyncing = true
	if s.isUser {
		s.resync = map[int64]bool{}
	}
	if err := c.send(ctx, s, s.last); err != nil {
		c.env.st.fail("ws_subscribe_write_" + errorKind(err))
	}
}

// reconnect re-dials with backoff and resumes every topic from its last seq.
func (c *wsClient) reconnect(ctx context.Context) error {
	start := time.Now()
	// A connection the server keeps closing right after it opens (a limit
	// the generator trips) must not spin: back off more each time.
	if time.Since(c.connectedAt) < 5*time.Second {
		c.flaps++
	} else {
		c.flaps = 0
	}
	if c.flaps > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(50*time.Millisecond<<min(c.flaps, 6), 3*time.Second)):
		}
	}
	backoff := 50 * time.Millisecond
	for attempt := 0; attempt < 30; attempt++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := c.dial(ctx); err == nil {
			if ctx.Err() != nil { // stopped while dialling: the stopper may have missed this socket
				c.conn.Load().CloseNow()
				return ctx.Err()
			}
			c.byID = map[int64]*subscription{}
			for i, s := range c.order {
				if s.failed != "" {
					continue
				}
				c.pace(ctx, i)
				since := int64(-1)
				if s.haveLast {
					since = s.last
				}
				if s.acked {
					s.resyncing = true
				}
				if err := c.send(ctx, s, since); err != nil {
					break
				}
			}
			if c.user != nil && c.user.haveLast {
				c.user.resyncing = true
				c.user.resync = map[int64]bool{}
				c.send(ctx, c.user, c.user.last) //nolint:errcheck // a failed write shows up as the next read error
			}
			c.env.st.record(hReconnect, time.Since(start))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	return errors.New("gave up")
}

// Client frame pacing: the hub allows a connection about 20 frames/s with
// a burst of 40 before closing it with 4029; a client subscribing to many
// topics at once (the planner) must spread them out, as a real one would.
const (
	frameBurst    = 30
	frameInterval = 70 * time.Millisecond
)

// pace sleeps before the i-th frame of a burst once it exceeds frameBurst.
func (c *wsClient) pace(ctx context.Context, i int) {
	if i < frameBurst {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(frameInterval):
	}
}

// jsonStringField returns the top-level string field key of a JSON object.
func jsonStringField(obj []byte, key string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	p := skipWS(obj, 1)
	for p < len(obj) && obj[p] == '"' {
		k, next, _, err := scanString(obj, p)
		if err != nil {
			return nil
		}
		p = skipWS(obj, next)
		if p >= len(obj) || obj[p] != ':' {
			return nil
		}
		p = skipWS(obj, p+1)
		end, err := skipValue(obj, p)
		if err != nil {
			return nil
		}
		if string(k) == key {
			s, err := stringValue(obj[p:end])
			if err != nil {
				return nil
			}
			return s
		}
		p = skipWS(obj, end)
		if p < len(obj) && obj[p] == ',' {
			p = skipWS(obj, p+1)
		}
	}
	return nil
}

// wsURLFor turns a node's http(s) base URL into its ws(s) /ws URL.
func wsURLFor(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}
