// Package hub is this node's registry of live WebSocket connections: user id
// → every connection of that user, topic → subscribers. Each topic belongs to
// one shard goroutine that orders its events by seq, drops duplicates, fills
// gaps from history and fans out a frame encoded once per node. The shard
// does no I/O itself: its ordering is a pure core (topic.go), and history
// reads and broker calls run on goroutines whose results come back to the
// shard as commands, so a slow Redis or Postgres delays only the topics
// waiting for it. Each
// connection has one writer goroutine and a bounded queue, so fan-out never
// writes to a socket and one slow client never delays another.
package hub

import (
	"context"
	"hash/fnv"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"instainstru/market"
)

// History reads committed events (the outbox table) for resume and gap fill.
// The hub calls it from I/O goroutines, never from a shard's goroutine.
type History interface {
	EventsAfter(ctx context.Context, topic string, after int64, limit int) ([]market.Event, error)
	TopicSeq(ctx context.Context, topic string) (int64, error)
	OldestSeq(ctx context.Context, topic string) (int64, error)
}

// Broker is the node-level topic interest the hub drives: Subscribe on a
// topic's first local subscriber, Unsubscribe after its last; and the
// cross-node channel for ephemeral frames (ephemeral.go), whose contract is
// realtime.EphemeralPublisher's.
type Broker interface {
	Subscribe(ctx context.Context, topic string) error
	Unsubscribe(ctx context.Context, topic string) error
	PublishEphemeral(ctx context.Context, topic string, frame []byte) error
}

// Options tune the hub; zero values take the defaults in brackets.
type Options struct {
	NodeID            string
	QueueFrames       int           // frames a connection may have queued [4096]
	QueueBytes        int           // bytes a connection may have queued [4 MiB]
	MaxSubscriptions  int           // topics per connection [100]
	MessagesPerSecond float64       // client frames/s (pings too), burst 2× + MaxSubscriptions [20]
	MaxFrameBytes     int64         // largest client frame [16 KiB]
	PingInterval      time.Duration // keepalive ping [25s]
	WriteTimeout      time.Duration // one socket write [10s]
	ReplayLimit       int           // most events replayed on subscribe; more → reset [QueueFrames/2, at most QueueFrames-replayHeadroom]
	Shards            int           // topic shards [2×GOMAXPROCS]
	// IOUring sends the writer loops' batches through one io_uring per
	// loop (Linux; see uring_linux.go) instead of a write(2) per
	// connection. Where a ring cannot be set up the hub logs it once and
	// writes as without it.
	IOUring bool
	// Typing decides client typing frames (typing.go); nil = refused.
	Typing TypingRelay
	// Presence is told who watches what (presence.go); nil = none.
	Presence Presence
	// IOUringEntries is a ring's size, the most sends per io_uring_enter
	// [256]; past the kernel's limit (32,768) the ring cannot be set up.
	IOUringEntries int
}

// replayHeadroom is the room a replay leaves in the send queue for the
// frames around it (welcome, ack, reset, pong, errors).
const replayHeadroom = 16

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.QueueFrames, 4096)
	def(&o.QueueBytes, 4<<20)
	def(&o.MaxSubscriptions, 100)
	def(&o.ReplayLimit, o.QueueFrames/2)
	// A replay longer than the send queue would only end in 4008 (slow
	// consumer): past this the client is sent reset and refetches instead.
	o.ReplayLimit = max(1, min(o.ReplayLimit, o.QueueFrames-replayHeadroom))
	def(&o.Shards, 2*runtime.GOMAXPROCS(0))
	def(&o.IOUringEntries, 256)
	if o.MessagesPerSecond == 0 {
		o.MessagesPerSecond = 20
	}
	if o.MaxFrameBytes == 0 {
		o.MaxFrameBytes = 16 << 10
	}
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
}

// Hub is this node's connection registry.
type Hub struct {
	opts    Options
	broker  Broker
	history History
	log     *slog.Logger
	metrics *Metrics
	shards  []*shard
	writers []*writer
	nextW   atomic.Uint32

	mu      sync.Mutex
	users   map[string]map[*Client]struct{} // "" = anonymous
	closing bool
	drained chan struct{} // closed when the last client leaves during shutdown
}

// New returns a hub and starts its shard goroutines, which run until ctx ends.
func New(ctx context.Context, opts Options, b Broker, hist History, m *Metrics, log *slog.Logger) *Hub {
	opts.setDefaults()
	h := &Hub{opts: opts, broker: b, history: hist, log: log, metrics: m,
		users: map[string]map[*Client]struct{}{}, drained: make(chan struct{})}
	for i := range runtime.GOMAXPROCS(0) {
		w := newWriter(i)
		h.writers = append(h.writers, w)
	}
	if opts.IOUring {
		if err := setupRings(h.writers, opts.IOUringEntries); err != nil {
			log.Warn("io_uring send path unavailable; writing with write(2)", "err", err)
		} else {
			log.Info("io_uring send path on", "rings", len(h.writers))
		}
	}
	for _, w := range h.writers {
		go w.run(ctx)
	}
	lim := defaultTopicLimits(opts.ReplayLimit)
	for i := 0; i < opts.Shards; i++ {
		s := &shard{h: h, in: newInbox(), topics: map[string]*topic{}, lim: lim, ctx: ctx, batch: make([][]*Client, len(h.writers))}
		h.shards = append(h.shards, s)
		go s.run()
	}
	return h
}

// nextWriter spreads connections over the writer loops.
func (h *Hub) nextWriter() *writer {
	return h.writers[int(h.nextW.Add(1))%len(h.writers)]
}

func (h *Hub) shardOf(topic string) *shard {
	f := fnv.New32a()
	f.Write([]byte(topic))
	return h.shards[f.Sum32()%uint32(len(h.shards))]
}

// Event is the broker's delivery entry point (realtime.Handler).
func (h *Hub) Event(ev market.Event) {
	h.send(command{kind: cmdEvent, ev: ev})
}

// Subscribed tells the topic's shard that the broker (re)subscribed, so it
// fetches anything missed while the subscription was down.
func (h *Hub) Subscribed(topic string) {
	h.send(command{kind: cmdResync, topic: topic})
}

// register adds c; it fails while the node shuts down.
func (h *Hub) register(c *Client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	set := h.users[c.userID]
	if set == nil {
		set = map[*Client]struct{}{}
		h.users[c.userID] = set
	}
	set[c] = struct{}{}
	h.connected(c)
	return true
}

func (h *Hub) unregister(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.users[c.userID]; set != nil {
		if _, ok := set[c]; ok {
			h.disconnected(c)
		}
		delete(set, c)
		if len(set) == 0 {
			delete(h.users, c.userID)
		}
	}
	if h.closing && len(h.users) == 0 {
		select {
		case <-h.drained:
		default:
			close(h.drained)
		}
	}
}

// UserConnections returns how many connections user has on this node.
func (h *Hub) UserConnections(userID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.users[userID])
}

// Connections returns the number of open connections on this node.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.users {
		n += len(set)
	}
	return n
}

// DisconnectUser closes every connection of userID (e.g. account deleted).
func (h *Hub) DisconnectUser(userID string, code int, reason string) {
	h.mu.Lock()
	var cs []*Client
	for c := range h.users[userID] {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.closeWith(code, reason)
	}
}

// Shutdown refuses new connections, closes every open one with 1012 (service
// restart) so clients reconnect to another node, and waits for them to go
// or for ctx to end.
func (h *Hub) Shutdown(ctx context.Context) {
	h.mu.Lock()
	h.closing = true
	var cs []*Client
	for _, set := range h.users {
		for c := range set {
			cs = append(cs, c)
		}
	}
	if len(h.users) == 0 {
		select {
		case <-h.drained:
		default:
			close(h.drained)
		}
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.closeWith(StatusServiceRestart, "server restarting")
	}
	select {
	case <-h.drained:
	case <-ctx.Done():
	}
}
