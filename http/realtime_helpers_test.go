package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"

	"instainstru/cmd/hubd/node"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// NodeConfig is a node's configuration and its front end's.
type NodeConfig struct {
	node.Config
	HTTP Config
}

// rtNode is a real hub node (hubd's node.New around this package's Server)
// serving on a loopback listener.
type rtNode struct {
	t    testing.TB
	node *node.Node
	srv  *Server // the node's front end
	base string  // http://127.0.0.1:port
	ws   string  // ws://127.0.0.1:port/ws
}

type rtNodeOpt func(*NodeConfig)

// forEachWriteMode runs scenario with the hub's writer loops writing with
// write(2) and through io_uring (hub.Options.IOUring); mode, given last to
// startNode, sets it.
func forEachWriteMode(t *testing.T, scenario func(t *testing.T, mode rtNodeOpt)) {
	t.Run("write", func(t *testing.T) { scenario(t, func(*NodeConfig) {}) })
	t.Run("io_uring", func(t *testing.T) { scenario(t, func(c *NodeConfig) { c.Hub.IOUring = true }) })
}

// startNode starts a node over db; redisURL "" = in-process broker.
func startNode(t testing.TB, db *store.DB, redisURL, prefix, id string, opts ...rtNodeOpt) *rtNode {
	t.Helper()
	cfg := NodeConfig{
		HTTP: Config{
			Env: "test", NodeID: id, JWTSecret: testJWTSecret, BcryptCost: bcrypt.MinCost,
			RedisPrefix: prefix, RegisterPerIPPerMinute: 100000, LoginPerIPPerMinute: 100000,
			LoginFailuresPerAccountPerMinute: 100000,
			// Tests publish to random topics and dial hundreds of sockets
			// from 127.0.0.1; the caps have their own tests (conncaps_test.go).
			Edge: EdgeLimits{AnyAvailabilityTopic: true, WSPerUser: 100000, WSPerAddress: 100000, WSTopicsPerAddress: 100000},
		},
		Config: node.Config{
			NodeID: id, RedisPrefix: prefix,
			DB: db, RedisURL: redisURL, RelayDelay: 300 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	var srv *Server
	n, err := node.New(cfg.Config, NewRegistry(), func(p node.Parts) (node.Front, error) {
		deps := Deps{DB: p.DB, ReadDB: p.ReadDB, Search: store.NewSearcher(p.DB), Hub: p.Hub, Presence: p.Presence, Registry: p.Registry, Logger: p.Logger}
		if p.Redis != nil {
			withRedis(&deps, p.Redis, cfg.HTTP.RedisPrefix)
		}
		srv = New(cfg.HTTP, deps)
		return srv, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go n.Serve(ln) //nolint:errcheck
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx) //nolint:errcheck
	})
	addr := ln.Addr().String()
	return &rtNode{t: t, node: n, srv: srv, base: "http://" + addr, ws: "ws://" + addr + "/ws"}
}

// commit writes evs in one transaction (the outbox) through this node's
// store, which hands them to its fast-path publisher after commit, as for
// every write.
func (n *rtNode) commit(evs ...market.NewEvent) []market.Event {
	n.t.Helper()
	out, err := n.node.DB.CommitEvents(context.Background(), evs)
	if err != nil {
		n.t.Fatalf("commit events: %v", err)
	}
	return out
}

// register creates a user through the REST API and returns token and id.
func (n *rtNode) register(role string) (token, id string) {
	n.t.Helper()
	token, id, _ = n.registerEmail(role)
	return token, id
}

// registerEmail is register that also returns the email. The account is
// verified (as if its link was opened), so it is created in the database —
// registering through the API would also mail a verification link, which
// the email-counting tests do not expect — and then signs in through the API.
func (n *rtNode) registerEmail(role string) (token, id, email string) {
	n.t.Helper()
	email = fmt.Sprintf("rt-%d@example.com", time.Now().UnixNano())
	hash, err := bcrypt.GenerateFromPassword([]byte("TestPassword123!"), bcrypt.MinCost)
	if err != nil {
		n.t.Fatal(err)
	}
	u, err := n.node.DB.CreateUser(context.Background(), market.NewUser{Email: email, PasswordHash: string(hash),
		FullName: "Realtime Tester", Role: role, EmailVerified: true})
	if err != nil {
		n.t.Fatalf("create %s: %v", role, err)
	}
	var out tokenResponse
	if st := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "TestPassword123!"}, &out); st != 200 {
		n.t.Fatalf("login: status %d", st)
	}
	return out.AccessToken, u.ID, email
}

// metric returns the value of a counter or gauge series of this node
// (summed over series matching the label pairs given).
func (n *rtNode) metric(t testing.TB, name string, labelPairs ...string) float64 {
	t.Helper()
	mfs, err := n.node.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labelPairs); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labelPairs[i] && lp.GetValue() == labelPairs[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// rtFrame is any server frame, decoded.
type rtFrame struct {
	Type   string           `json:"type"`
	ID     json.RawMessage  `json:"id"`
	Topic  string           `json:"topic"`
	Seq    int64            `json:"seq"`
	Event  string           `json:"event"`
	Data   json.RawMessage  `json:"data"`
	TS     time.Time        `json:"ts"`
	Code   string           `json:"code"`
	Msg    string           `json:"message"`
	UserID *string          `json:"user_id"`
	Node   string           `json:"node"`
	Topics []string         `json:"topics"`
	Seqs   map[string]int64 `json:"seqs"`

	ConversationID string `json:"conversation_id"` // typing
	Watching       *int   `json:"watching"`        // presence
	Raw            []byte `json:"-"`               // the frame as received

	received time.Time
}

// rtClient is a real WebSocket client reading in the background.
type rtClient struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan rtFrame
	mu     sync.Mutex
	err    error // why reading stopped
	done   chan struct{}
	nextID int
}

func dialWS(t testing.TB, url string, header nethttp.Header) *rtClient {
	t.Helper()
	c, err := dialWSErr(url, header)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.t = t
	t.Cleanup(func() { c.ws.CloseNow() }) //nolint:errcheck
	return c
}

func dialWSErr(url string, header nethttp.Header) (*rtClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &rtClient{ws: ws, frames: make(chan rtFrame, 100000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
				return
			}
			var f rtFrame
			if json.Unmarshal(b, &f) == nil {
				f.received, f.Raw = time.Now(), b
				c.frames <- f
			}
		}
	}()
	return c, nil
}

func bearer(token string) nethttp.Header {
	return nethttp.Header{"Authorization": {"Bearer " + token}}
}

// send writes a frame; id is set automatically when the map has none.
func (c *rtClient) send(m map[string]any) int {
	c.t.Helper()
	c.nextID++
	if _, ok := m["id"]; !ok {
		m["id"] = c.nextID
	}
	b, _ := json.Marshal(m)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	return c.nextID
}

// next returns the next frame or fails after d. Presence frames are
// skipped: every availability subscription gets them (ephemeral, about
// once a second; docs/features/presence.md), and the tests that are about
// them read them with watching (presence_test.go).
func (c *rtClient) next(d time.Duration) rtFrame {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if f.Type == "presence" {
				continue
			}
			return f
		case <-timeout:
			c.t.Fatalf("no frame within %v", d)
		}
	}
}

// frameWait is how long a test waits for a frame it expects. Generous:
// only a failing test waits it out, and the whole -race suite on two
// shared cores can stall a healthy node for seconds.
const frameWait = 15 * time.Second

// expect reads frames until one of type typ (failing on an error frame
// unless that is what is expected).
func (c *rtClient) expect(typ string) rtFrame {
	c.t.Helper()
	for {
		f := c.next(frameWait)
		if f.Type == typ {
			return f
		}
		if f.Type == "error" {
			c.t.Fatalf("got error frame %s while waiting for %s", f.Code, typ)
		}
	}
}

// subscribe subscribes (since < 0 = live only) and returns the events
// replayed before the ack and the ack.
func (c *rtClient) subscribe(topic string, since int64) ([]rtFrame, rtFrame) {
	c.t.Helper()
	m := map[string]any{"type": "subscribe", "topic": topic}
	if since >= 0 {
		m["since"] = since
	}
	id := c.send(m)
	var replay []rtFrame
	for {
		f := c.next(frameWait)
		switch {
		case f.Type == "event" && f.Topic == topic:
			replay = append(replay, f)
		case f.Type == "ack" && string(f.ID) == fmt.Sprint(id):
			return replay, f
		case f.Type == "error":
			c.t.Fatalf("subscribe %s: error %s", topic, f.Code)
		}
	}
}

// events collects n events of topic within d.
func (c *rtClient) events(topic string, n int, d time.Duration) []rtFrame {
	c.t.Helper()
	var out []rtFrame
	deadline := time.After(d)
	for len(out) < n {
		select {
		case f := <-c.frames:
			if f.Type == "event" && f.Topic == topic {
				out = append(out, f)
			}
		case <-deadline:
			c.t.Fatalf("%s: got %d of %d events within %v", topic, len(out), n, d)
		}
	}
	return out
}

// quiet asserts no event arrives for d (no duplicates after the last).
func (c *rtClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case f := <-c.frames:
		if f.Type == "event" {
			c.t.Fatalf("unexpected extra event %s#%d", f.Topic, f.Seq)
		}
	case <-time.After(d):
	}
}

// closeStatus waits for the connection to end and returns its close code.
func (c *rtClient) closeStatus(d time.Duration) websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.t.Fatalf("connection still open after %v", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.err)
}

// assertSeqs checks events are exactly seqs from..to in order.
func assertSeqs(t testing.TB, evs []rtFrame, from, to int64) {
	t.Helper()
	if int64(len(evs)) != to-from+1 {
		t.Fatalf("got %d events, want seqs %d..%d", len(evs), from, to)
	}
	for i, e := range evs {
		if e.Seq != from+int64(i) {
			t.Fatalf("event %d has seq %d, want %d (seqs must be in order, no gaps, no duplicates)", i, e.Seq, from+int64(i))
		}
	}
}

func availEvent(topic string, n int) market.NewEvent {
	return market.NewEvent{Topic: topic, Type: market.EventAvailabilityChanged, Data: map[string]int{"n": n}}
}

// call sends a JSON request to the node and decodes a JSON reply into out
// (when non-nil); it returns the status.
func (n *rtNode) call(method, path, token string, body, out any) int {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := nethttp.NewRequest(method, n.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out) //nolint:errcheck
	}
	return resp.StatusCode
}

// bookableInstructor creates an instructor offering one 60-minute service
// with a 09:00–12:00 window on date; it returns token, instructor id and
// offered service id.
func (n *rtNode) bookableInstructor(db *store.DB, date string) (token, id, offer string) {
	n.t.Helper()
	token, id = n.register(market.RoleInstructor)
	suffix := fmt.Sprint(time.Now().UnixNano())
	var svc string
	err := storetest.Pool(db).QueryRow(context.Background(), `
		WITH c AS (INSERT INTO categories (slug, name) VALUES ($1, 'Music') RETURNING id)
		INSERT INTO services (category_id, slug, name) SELECT c.id, $2, 'Piano' FROM c RETURNING id`,
		"c"+suffix, "s"+suffix).Scan(&svc)
	if err != nil {
		n.t.Fatal(err)
	}
	var off market.InstructorService
	if st := n.call("POST", "/api/v1/instructors/me/services", token,
		map[string]any{"service_id": svc, "hourly_rate_cents": 8000, "durations": []int{60}}, &off); st != 201 {
		n.t.Fatalf("offer service: %d", st)
	}
	if st := n.call("POST", "/api/v1/instructors/me/availability", token,
		map[string]string{"date": date, "start": "09:00", "end": "12:00"}, nil); st != 201 {
		n.t.Fatalf("add window: %d", st)
	}
	return token, id, off.ID
}
