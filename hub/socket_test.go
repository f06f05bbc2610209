//go:build linux

package hub

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"instainstru/internal/eventually"
	"instainstru/internal/uring"
	"instainstru/market"
)

// These tests run the hub over real sockets and real WebSocket clients, the
// way http/ws.go serves it (the Wire is the conn the library hijacks), in
// each write mode of the writer loops.

// writeMode is one way the writer loops write: write(2), io_uring,
// io_uring with a full file table (every connection falls back to
// write(2)), and io_uring asked for with a ring the kernel refuses (the hub
// logs it and writes with write(2)).
type writeMode struct {
	name       string
	uring      bool
	fullTable  bool
	setupFails bool
}

var writeModes = []writeMode{
	{name: "write"},
	{name: "uring", uring: true},
	{name: "uring-table-full", uring: true, fullTable: true},
	{name: "uring-setup-refused", uring: true, setupFails: true},
}

// slotted: connections get a slot in a ring (written through io_uring).
func (m writeMode) slotted() bool { return m.uring && !m.fullTable && !m.setupFails }

// requireNoIOUring skips a test of the io_uring mode only where the kernel
// has no io_uring for this process (ENOSYS, or EPERM when
// kernel.io_uring_disabled says so); anywhere else a hub that fell back to
// write(2) is a failure, not a reason to skip.
func requireNoIOUring(t *testing.T) {
	t.Helper()
	r, err := uring.New(2, 0)
	if err == nil {
		r.Close()
		t.Fatal("the hub fell back to write(2) although this process can set up an io_uring")
	}
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		t.Skipf("io_uring unavailable to this process: %v", err)
	}
	t.Fatalf("io_uring setup failed: %v", err)
}

// forEachMode runs body once per write mode.
func forEachMode(t *testing.T, body func(t *testing.T, m writeMode)) {
	for _, m := range writeModes {
		t.Run(m.name, func(t *testing.T) { body(t, m) })
	}
}

// sockHub is a hub behind a TCP listener.
type sockHub struct {
	t      *testing.T
	h      *Hub
	mode   writeMode
	addr   string
	cancel context.CancelFunc

	sndbuf int // > 0: the server's socket send buffer

	mu    sync.Mutex
	wires []*Wire
}

func startSockHub(t *testing.T, m writeMode, opts Options) *sockHub {
	return startSockHubBuf(t, m, opts, 0)
}

// startSockHubBuf is startSockHub with the server's sockets' send buffer
// set to sndbuf, so a client that does not read fills it quickly.
func startSockHubBuf(t *testing.T, m writeMode, opts Options, sndbuf int) *sockHub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.IOUring = m.uring
	if m.setupFails {
		opts.IOUringEntries = 1 << 20 // past IORING_MAX_ENTRIES: io_uring_setup says EINVAL
	}
	hist := &slowHistory{seq: map[string]int64{}}
	var logs strings.Builder
	h := New(ctx, opts, &countingBroker{subs: map[string]int{}}, hist, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if m.setupFails {
		for _, w := range h.writers {
			if w.ring != nil {
				t.Fatal("a writer has a ring the kernel should have refused")
			}
		}
		if n := strings.Count(logs.String(), "io_uring send path unavailable"); n != 1 {
			t.Fatalf("the refused ring was logged %d times, want once:\n%s", n, logs.String())
		}
	} else if m.uring {
		for _, w := range h.writers {
			if w.ring == nil {
				cancel()
				requireNoIOUring(t)
			}
			if m.fullTable {
				w.ring.r.mu.Lock()
				w.ring.r.next = w.ring.r.slots
				w.ring.r.mu.Unlock()
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sockHub{t: t, h: h, mode: m, addr: ln.Addr().String(), cancel: cancel, sndbuf: sndbuf}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(ctx, conn)
		}
	}()
	t.Cleanup(func() {
		ln.Close() //nolint:errcheck
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		h.Shutdown(sctx)
		cancel()
	})
	return s
}

// serve upgrades conn as http/ws.go does: the Wire is the conn the library
// takes over. ?user= sets the user id.
func (s *sockHub) serve(ctx context.Context, conn net.Conn) {
	if s.sndbuf > 0 {
		conn.(*net.TCPConn).SetWriteBuffer(s.sndbuf) //nolint:errcheck
	}
	req, err := nethttp.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		conn.Close() //nolint:errcheck
		return
	}
	wire := NewWire(conn)
	ws, err := websocket.Accept(wire.Hijacker(), req, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		conn.Close() //nolint:errcheck
		return
	}
	s.mu.Lock()
	s.wires = append(s.wires, wire)
	s.mu.Unlock()
	id := Identity{Auth: "anonymous"}
	if u := req.URL.Query().Get("user"); u != "" {
		id = Identity{UserID: u, Auth: "token"}
	}
	s.h.Serve(ctx, ws, wire, id, nil)
}

// slotsUsed is how many sockets the hub's rings hold.
func (s *sockHub) slotsUsed() int {
	n := 0
	for _, w := range s.h.writers {
		if w.ring != nil {
			w.ring.r.mu.Lock()
			n += w.ring.r.used
			w.ring.r.mu.Unlock()
		}
	}
	return n
}

func (s *sockHub) partials() int64 {
	var n int64
	for _, w := range s.h.writers {
		n += w.partials.Load()
	}
	return n
}

// checkSlots checks that every open wire has a ring slot in uring mode
// (none with a full table, none without io_uring).
func (s *sockHub) checkSlots(t *testing.T, open int) {
	t.Helper()
	want := 0
	if s.mode.slotted() {
		want = open
	}
	if got := s.slotsUsed(); got != want {
		t.Fatalf("%d ring slots in use with %d connections open, want %d", got, open, want)
	}
}

// waitSlots waits until the rings hold want sockets.
func (s *sockHub) waitSlots(t *testing.T, want int) {
	t.Helper()
	eventually.Within(5*time.Second, func() bool { return s.slotsUsed() == want })
	if got := s.slotsUsed(); got != want {
		t.Fatalf("%d ring slots in use, want %d", got, want)
	}
}

// publish sends events seq from..to of topic through the hub, each with a
// payload of pad bytes.
func (s *sockHub) publish(topic string, from, to int64, pad int) {
	data, _ := json.Marshal(map[string]any{"pad": strings.Repeat("x", pad)})
	for seq := from; seq <= to; seq++ {
		s.h.Event(market.Event{Topic: topic, Seq: seq, Type: "t", Data: data, TS: time.Now()})
	}
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial connects a client; rcvbuf > 0 shrinks its socket receive buffer.
func (s *sockHub) dial(t *testing.T, query string, rcvbuf int) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPClient: &nethttp.Client{Transport: &nethttp.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil && rcvbuf > 0 {
				c.(*net.TCPConn).SetReadBuffer(rcvbuf) //nolint:errcheck
			}
			return c, err
		}}}}
	ws, _, err := websocket.Dial(ctx, "ws://"+s.addr+"/ws"+query, opts)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() }) //nolint:errcheck
	c := &wsClient{t: t, ws: ws}
	c.expect("welcome")
	return c
}

type serverMsg struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
	Seq   int64  `json:"seq"`
}

func (c *wsClient) read(timeout time.Duration) (serverMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return serverMsg{}, err
	}
	var m serverMsg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("not JSON: %.100s", b)
	}
	return m, nil
}

func (c *wsClient) expect(typ string) serverMsg {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil || m.Type != typ {
		c.t.Fatalf("got %+v, %v; want %s", m, err, typ)
	}
	return m
}

func (c *wsClient) subscribe(topic string) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"id": 1, "type": "subscribe", "topic": topic})
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
	c.expect("ack")
}

// events reads until it has events from..to of topic, which must come in
// order with no gap or duplicate.
func (c *wsClient) events(topic string, from, to int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	next := from
	for next <= to {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("after seq %d of %d..%d: %w", next-1, from, to, err)
		}
		if m.Type != "event" || m.Topic != topic {
			continue
		}
		if m.Seq != next {
			return fmt.Errorf("seq %d, want %d", m.Seq, next)
		}
		next++
	}
	return nil
}

// closeCode reads until the connection ends and returns its close code
// (-1: cut without a close frame).
func (c *wsClient) closeCode(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.read(time.Until(deadline))
		if err != nil {
			if time.Now().After(deadline) {
				c.t.Fatalf("still open after %v", timeout)
			}
			return int(websocket.CloseStatus(err))
		}
	}
}

func topicName(i int) string {
	return market.AvailabilityTopic(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
}

func TestSocketFanOutReachesEverySubscriberInOrder(t *testing.T) {
	forEachMode(t, func(t *testing.T, m writeMode) {
		s := startSockHub(t, m, Options{})
		topic := topicName(1)
		const clients, events = 40, 300
		cs := make([]*wsClient, clients)
		for i := range cs {
			cs[i] = s.dial(t, "", 0)
			cs[i].subscribe(topic)
		}
		s.checkSlots(t, clients)
		go s.publish(topic, 1, events, 200)
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.events(topic, 1, events, 10*time.Second); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

func TestSocketSlowConsumerIsClosedWith4008WhileOthersKeepReceiving(t *testing.T) {
	forEachMode(t, func(t *testing.T, m writeMode) {
		s := startSockHubBuf(t, m, Options{QueueBytes: 256 << 10, WriteTimeout: time.Second}, 64<<10)
		flood, steady := topicName(1), topicName(2)
		slow := s.dial(t, "", 64<<10)
		slow.subscribe(flood)
		var others []*wsClient
		for range 20 {
			c := s.dial(t, "", 0)
			c.subscribe(steady)
			others = append(others, c)
		}
		const steadyEvents = 40
		go func() {
			for i := int64(1); i <= steadyEvents; i++ {
				s.publish(steady, i, i, 10)
				s.publish(flood, 16*(i-1)+1, 16*i, 16<<10) // 256 KiB of flood per steady event
			}
		}()
		for _, c := range others {
			if err := c.events(steady, 1, steadyEvents, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if code := slow.closeCode(15 * time.Second); code != -1 && code != StatusSlowConsumer {
			t.Fatalf("slow client closed with %d, want 4008 (or cut)", code)
		}
		s.waitSlots(t, len(others)*boolInt(m.slotted()))
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A socket whose buffer fills takes the short-send path (-EAGAIN or a short
// count in uring mode, a short write(2) otherwise): the rest goes to a
// goroutine, and once the client reads again it gets every event, whole
// and in order.
func TestSocketFullBufferHandsTheRestOnAndLosesNothing(t *testing.T) {
	forEachMode(t, func(t *testing.T, m writeMode) {
		s := startSockHubBuf(t, m, Options{WriteTimeout: 10 * time.Second}, 16<<10)
		topic := topicName(1)
		// Not below 64 KiB: with a receive window under loopback's MSS,
		// TCP stalls on window updates (silly window avoidance).
		c := s.dial(t, "", 64<<10)
		c.subscribe(topic)
		s.checkSlots(t, 1)
		const events = 200 // 200 × 8 KiB: far more than both socket buffers
		s.publish(topic, 1, events, 8<<10)
		eventually.True(t, 5*time.Second, "a write that comes up short", func() bool { return s.partials() > 0 })
		if err := c.events(topic, 1, events, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		// The connection goes on working through the writer loop.
		s.publish(topic, events+1, events+10, 10)
		if err := c.events(topic, events+1, events+10, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSocketShutdownClosesWith1012AndGivesTheSlotsBack(t *testing.T) {
	forEachMode(t, func(t *testing.T, m writeMode) {
		s := startSockHub(t, m, Options{})
		cs := []*wsClient{s.dial(t, "", 0), s.dial(t, "", 0), s.dial(t, "?user=u1", 0)}
		s.checkSlots(t, len(cs))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() { s.h.Shutdown(ctx); close(done) }() // it waits for the clients' close replies
		for _, c := range cs {
			if code := c.closeCode(5 * time.Second); code != StatusServiceRestart {
				t.Fatalf("close code %d, want 1012", code)
			}
		}
		<-done
		if ctx.Err() != nil {
			t.Fatal("shutdown did not finish before its deadline")
		}
		s.waitSlots(t, 0)
	})
}

// A connection the hub closes must really close: the ring's reference to
// the socket (uring mode) is dropped with it, so the peer reads EOF. And a
// connection the peer drops gives its slot back.
func TestSocketClosedConnectionReallyClosesItsSocket(t *testing.T) {
	forEachMode(t, func(t *testing.T, m writeMode) {
		s := startSockHub(t, m, Options{})
		// A raw client, to see the TCP stream itself end.
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close() //nolint:errcheck
		fmt.Fprintf(conn, "GET /ws?user=u1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		other := s.dial(t, "", 0) // stays open
		eventually.Within(5*time.Second, func() bool { return s.h.UserConnections("u1") == 1 })
		s.checkSlots(t, 2)

		s.h.DisconnectUser("u1", 4003, "bye")
		// The close frame (after the welcome), answered, then EOF: the
		// hub's side of the TCP connection is gone.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
		var got []byte
		for !strings.Contains(string(got), "bye") {
			b := make([]byte, 256)
			n, err := br.Read(b)
			if err != nil {
				t.Fatalf("no close frame: %v after %q", err, got)
			}
			got = append(got, b[:n]...)
		}
		conn.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8}) //nolint:errcheck // close 1000, masked with zeros
		rest, err := io.ReadAll(br)
		if err != nil {
			t.Fatalf("no EOF: %v (after %d more bytes)", err, len(rest))
		}
		s.waitSlots(t, boolInt(m.slotted())) // only other's

		// The peer hangs up: the hub closes its side and the slot goes.
		other.ws.CloseNow() //nolint:errcheck
		s.waitSlots(t, 0)
		eventually.True(t, 5*time.Second, "no connection left", func() bool { return s.h.Connections() == 0 })
	})
}
