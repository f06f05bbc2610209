package client

import (
	"context"
	"errors"
	"fmt"
	"instainstru/loadtest/measure"
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
	RoleWatcher    = "watcher"
	RoleInstructor = "instructor"
	RolePlanner    = "planner" // keeps the generator's view of open time current
	RoleIdle       = "idle"
)

// WSClient is one generator WebSocket connection. After setup, only its
// reader goroutine touches its subscriptions, so the hot path takes no lock
// but the per-topic fan-out record.
type WSClient struct {
	env  *Env
	Node int
	url  string
	hc   *http.Client
	Sess *Session // nil: anonymous
	Role string

	// Conn is read by the reader goroutine and closed by the run's stopper;
	// atomic so a reconnect's swap and the final close cannot race.
	Conn   atomic.Pointer[websocket.Conn]
	subs   map[string]*measure.Subscription
	Order  []*measure.Subscription
	byID   map[int64]*measure.Subscription
	User   *measure.Subscription
	Seen   map[string]uint8 // booking id → push flags (private topic)
	nextID int64

	pending   int
	Ready     chan struct{}
	readyOnce sync.Once
	Dead      bool

	BookingDups, unexpectedFrames int64
	connectedAt                   time.Time
	flaps                         int
}

// Env is what a run shares with each of its connections.
type Env struct {
	St      *measure.Stats
	ReadCtx context.Context // ends every reader goroutine
	Readers *sync.WaitGroup // one per started reader
	Home    map[string]int  // instructor id → node taking its writes (read-only)
	// ApplyAvailability feeds the planner's availability pushes (raw data).
	ApplyAvailability func(data []byte)
}

// bufPool recycles read buffers so that an idle connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (c *WSClient) MarkReady() { c.readyOnce.Do(func() { close(c.Ready) }) }

// AddTopic registers a subscription to send at connect; since < 0 = live only.
func (c *WSClient) AddTopic(track *measure.TopicTrack, since int64) {
	s := &measure.Subscription{Topic: track.Topic, Track: track, Since: since}
	if since >= 0 {
		s.HaveLast, s.Last = true, since
	}
	c.subs[s.Topic] = s
	c.Order = append(c.Order, s)
	track.AddSub(s)
}

// NewWSClient makes a client of node (its WebSocket URL url); it dials in
// start. env is the run's shared state.
func NewWSClient(env *Env, node int, url string, hc *http.Client, sess *Session, role string) *WSClient {
	c := &WSClient{
		env: env, Node: node, url: url, hc: hc, Sess: sess, Role: role,
		subs: map[string]*measure.Subscription{}, byID: map[int64]*measure.Subscription{}, Ready: make(chan struct{}),
	}
	if sess != nil {
		c.User = &measure.Subscription{Topic: "user:" + sess.UserID, IsUser: true, Since: -1, Acked: true}
		c.Seen = map[string]uint8{}
	}
	return c
}

// dial opens the socket and reads the welcome frame.
func (c *WSClient) dial(ctx context.Context) error {
	opts := &websocket.DialOptions{HTTPClient: c.hc, CompressionMode: websocket.CompressionDisabled}
	if c.Sess != nil {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + c.Sess.Token}}
	}
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, c.url, opts)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("ws_upgrade_http_%d", resp.StatusCode)
		}
		return fmt.Errorf("ws_dial_%s", ErrorKind(err))
	}
	conn.SetReadLimit(1 << 20)
	_, b, err := conn.Read(dctx)
	if err != nil {
		conn.CloseNow()
		return fmt.Errorf("ws_no_welcome_%s", ErrorKind(err))
	}
	var f frame
	if err := parseFrame(b, &f); err != nil || string(f.Type) != "welcome" {
		conn.CloseNow()
		return errors.New("ws_bad_welcome")
	}
	if c.Sess != nil && string(f.UserID) != c.Sess.UserID {
		conn.CloseNow()
		return errors.New("ws_welcome_wrong_user")
	}
	c.Conn.Store(conn)
	c.connectedAt = time.Now()
	c.env.St.Record(measure.HConnect, time.Since(start))
	return nil
}

func (c *WSClient) send(ctx context.Context, s *measure.Subscription, since int64) error {
	c.nextID++
	c.byID[c.nextID] = s
	bp := bufPool.Get().(*[]byte)
	b := appendSubscribe((*bp)[:0], c.nextID, s.Topic, since)
	s.SentAt = time.Now()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := c.Conn.Load().Write(wctx, websocket.MessageText, b)
	cancel()
	*bp = b[:0]
	bufPool.Put(bp)
	return err
}

// Start connects, sends every subscribe and starts the reader; ready
// closes when every subscribe is answered.
func (c *WSClient) Start(ctx context.Context) error {
	if err := c.dial(ctx); err != nil {
		return err
	}
	c.pending = len(c.Order)
	for i, s := range c.Order {
		c.pace(ctx, i)
		if err := c.send(ctx, s, s.Since); err != nil {
			c.Conn.Load().CloseNow()
			return fmt.Errorf("ws_subscribe_write_%s", ErrorKind(err))
		}
	}
	if c.pending == 0 {
		c.MarkReady()
	}
	c.env.St.Connected.Add(1)
	c.env.Readers.Add(1)
	go c.readLoop(c.env.ReadCtx)
	return nil
}

// readLoop reads until the run's read context ends. Reads themselves take
// no context (a cancellable one costs an AfterFunc registration per frame,
// on one parent shared by every connection); the stopper closes the sockets.
func (c *WSClient) readLoop(ctx context.Context) {
	defer c.env.Readers.Done()
	for {
		err := c.readFrames(c.Conn.Load())
		if ctx.Err() != nil {
			c.Conn.Load().CloseNow()
			return
		}
		kind := "ws_read_error"
		if code := websocket.CloseStatus(err); code != -1 {
			kind = fmt.Sprintf("ws_closed_%d", int(code))
		}
		c.env.St.Note("disconnect:" + kind)
		c.env.St.Reconnects.Add(1)
		c.env.St.Connected.Add(-1)
		if err := c.reconnect(ctx); err != nil {
			if ctx.Err() == nil {
				c.Dead = true
				c.env.St.Fail("ws_reconnect_failed")
			}
			c.MarkReady()
			return
		}
		c.env.St.Connected.Add(1)
	}
}

func (c *WSClient) readFrames(conn *websocket.Conn) error {
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
			c.env.St.Fail("ws_bad_frame_from_server")
		} else {
			c.handle(c.env.ReadCtx, now, &f)
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

func (c *WSClient) handle(ctx context.Context, now time.Time, f *frame) {
	switch string(f.Type) {
	case "event":
		c.onEvent(now, f)
	case "ack":
		c.onAck(now, f)
	case "error":
		c.onError(f)
	case "reset":
		c.onReset(ctx, f)
	case "pong", "welcome", "presence", "typing": // ephemeral frames (no seq) need nothing here
	default:
		c.unexpectedFrames++
		c.env.St.Note("ws_unknown_frame_type")
	}
}

func (c *WSClient) onEvent(now time.Time, f *frame) {
	if !f.HasSeq {
		c.env.St.Fail("ws_event_without_seq")
		return
	}
	s := c.subs[string(f.Topic)]
	if s == nil {
		if c.User != nil && string(f.Topic) == c.User.Topic {
			c.onUserEvent(now, f)
			return
		}
		c.env.St.Fail("ws_event_on_unsubscribed_topic")
		return
	}
	if !s.Acked && !s.HaveLast {
		// A live-only subscribe answers ack first; an event before it is
		// kept and judged against the ack's seq.
		s.Pre = append(s.Pre, f.Seq)
		return
	}
	if !s.Accept(f.Seq) {
		return
	}
	ts, ok := s.Track.Received(f.Seq, f.TS, now)
	if !ok {
		c.env.St.Fail("ws_event_bad_ts")
		return
	}
	c.env.St.AvailRecv.Add(1)
	lat := now.Sub(ts)
	if s.Track.Home == c.Node {
		c.env.St.Record(measure.HPushAvailSame, lat)
	} else {
		c.env.St.Record(measure.HPushAvailCross, lat)
	}
	if c.Role == RolePlanner && string(f.Event) == "availability.changed" {
		c.env.ApplyAvailability(f.Data)
	}
}

// onUserEvent handles the connection's private topic: seq continuity (from
// the first event, since the welcome frame carries no seq) and one push per
// booking change, reconciled against the generator's own bookings later.
func (c *WSClient) onUserEvent(now time.Time, f *frame) {
	u := c.User
	if u.Resyncing {
		if u.Resync[f.Seq] || (u.HaveLast && f.Seq <= u.Last) {
			u.Dups++
		} else {
			u.Resync[f.Seq] = true
		}
	} else {
		u.Accept(f.Seq)
	}
	var flag uint8
	switch string(f.Event) {
	case "notification.created", "notification.read":
		return // the inbox's events: seq is checked above, bookings are reconciled by their own pushes
	case "booking.created", "booking.confirmed":
		flag = measure.PushCreated
	case "booking.cancelled":
		flag = measure.PushCancelled
	default:
		flag = measure.PushOther
	}
	id := jsonStringField(f.Data, "id")
	instr := jsonStringField(f.Data, "instructor_id")
	home, ours := c.env.Home[string(instr)]
	if !ours || len(id) == 0 {
		c.env.St.Note("push_not_from_this_run")
		return
	}
	key := string(id)
	if c.Seen[key]&flag != 0 {
		c.BookingDups++
		return
	}
	c.Seen[key] |= flag
	if flag == measure.PushOther {
		return
	}
	c.env.St.BookingPushRecv.Add(1)
	ts, err := measure.ParseTS(f.TS)
	if err != nil {
		c.env.St.Fail("ws_event_bad_ts")
		return
	}
	lat := now.Sub(ts)
	if home == c.Node {
		c.env.St.Record(measure.HPushBookingSame, lat)
	} else {
		c.env.St.Record(measure.HPushBookingCross, lat)
	}
	if c.Role == RoleInstructor {
		c.env.St.Record(measure.HBookingPushInstr, lat)
	} else {
		c.env.St.Record(measure.HBookingPushStudent, lat)
	}
}

func (c *WSClient) onAck(now time.Time, f *frame) {
	s := c.byID[f.ID]
	if s == nil || !f.HasSeq {
		c.env.St.Fail("ws_ack_unknown_id")
		return
	}
	delete(c.byID, f.ID)
	if s.IsUser {
		s.Resyncing = false
		seqs := make([]int64, 0, len(s.Resync))
		for q := range s.Resync {
			seqs = append(seqs, q)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for _, q := range seqs {
			s.Accept(q)
		}
		s.Resync = nil
		return
	}
	if s.Resyncing {
		s.Resyncing = false
		if f.Seq < s.Last {
			c.env.St.Fail("ws_ack_seq_behind_received")
		}
		return
	}
	if s.Acked {
		return
	}
	s.Acked = true
	c.env.St.Record(measure.HSubscribeAck, now.Sub(s.SentAt))
	if s.Since >= 0 {
		// Replayed events came before this ack; the baseline is since.
		s.AckSeq = s.Since
		if f.Seq < s.Last {
			c.env.St.Fail("ws_ack_seq_behind_received")
		}
	} else {
		s.AckSeq = f.Seq
		s.HaveLast, s.Last = true, f.Seq
		for _, q := range s.Pre {
			if q <= f.Seq {
				s.PreAck++
				continue
			}
			s.Accept(q)
		}
		s.Pre = nil
	}
	c.ackDone()
}

func (c *WSClient) ackDone() {
	c.pending--
	if c.pending == 0 {
		c.MarkReady()
	}
}

func (c *WSClient) onError(f *frame) {
	code := string(f.Code)
	if code == "" {
		code = "unknown"
	}
	c.env.St.Fail("ws_error_" + code)
	if !f.HasID {
		return
	}
	if s := c.byID[f.ID]; s != nil {
		delete(c.byID, f.ID)
		if !s.Acked && s.Failed == "" && !s.Resyncing {
			s.Failed = code
			c.ackDone()
		}
	}
}

// onReset: the topic's history no longer covers our last seq. The events in
// between can only be recovered through the REST snapshot, so they count as
// skipped (a failure: a benchmark run must not outrun retained history).
func (c *WSClient) onReset(ctx context.Context, f *frame) {
	s := c.subs[string(f.Topic)]
	if s == nil {
		if c.User != nil && string(f.Topic) == c.User.Topic {
			s = c.User
		} else {
			c.env.St.Fail("ws_reset_unknown_topic")
			return
		}
	}
	s.Resets++
	if f.HasSeq && f.Seq > s.Last {
		s.ResetSkipped += f.Seq - s.Last
		s.Last = f.Seq
	}
	if !s.Acked && !s.IsUser && s.Failed == "" {
		// A reset answered the first subscribe: count it answered.
		s.Acked, s.AckSeq = true, s.Last
		c.ackDone()
	}
	s.Resyncing = true
	if s.IsUser {
		s.Resync = map[int64]bool{}
	}
	if err := c.send(ctx, s, s.Last); err != nil {
		c.env.St.Fail("ws_subscribe_write_" + ErrorKind(err))
	}
}

// reconnect re-dials with backoff and resumes every topic from its last seq.
func (c *WSClient) reconnect(ctx context.Context) error {
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
				c.Conn.Load().CloseNow()
				return ctx.Err()
			}
			c.byID = map[int64]*measure.Subscription{}
			for i, s := range c.Order {
				if s.Failed != "" {
					continue
				}
				c.pace(ctx, i)
				since := int64(-1)
				if s.HaveLast {
					since = s.Last
				}
				if s.Acked {
					s.Resyncing = true
				}
				if err := c.send(ctx, s, since); err != nil {
					break
				}
			}
			if c.User != nil && c.User.HaveLast {
				c.User.Resyncing = true
				c.User.Resync = map[int64]bool{}
				c.send(ctx, c.User, c.User.Last) //nolint:errcheck // a failed write shows up as the next read error
			}
			c.env.St.Record(measure.HReconnect, time.Since(start))
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
func (c *WSClient) pace(ctx context.Context, i int) {
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

// WSURLFor turns a node's http(s) base URL into its ws(s) /ws URL.
func WSURLFor(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}
