// Package node is hubd's composition root: it builds one hub node (Redis
// clients, broker, hub, outbox publisher and relay, job workers, background
// loops) around a front end (the http package's server) that it does not
// import, so the http package's own tests can start real nodes.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"instainstru/hub"
	"instainstru/notify"
	"instainstru/realtime"
	"instainstru/redis"
	"instainstru/store"
)

// Config is everything one hub node needs besides its front end's own
// settings.
type Config struct {
	NodeID         string
	DB             *store.DB
	RealtimeDB     *store.DB     // pool for history reads and the outbox; nil = DB. A separate pool keeps pushes flowing when bookings queue on locks
	ReadDB         *store.DB     // pool for public availability reads; nil = DB. Separate so a GET never queues behind bookings holding connections
	RedisURL       string        // "" = single node with the in-process broker
	RedisPrefix    string        // namespace of Redis keys and channels (REDIS_PREFIX)
	Hub            hub.Options   // NodeID is copied from NodeID
	RelayDelay     time.Duration // how long the fast path has before the relay republishes [1s]
	EventRetention time.Duration // history (and idempotency keys) kept for resume [24h]; sets Retention.Events and .IdempotencyKeys
	Notify         notify.Config // job workers (email, reminders); Workers 0 = none on this node
	JobsDB         *store.DB     // pool for the job workers; nil = DB. Its own pool keeps a mail backlog from queueing bookings behind it
	Logger         *slog.Logger

	// LessonCompletion is how often ended lessons are marked completed
	// [1m], once across the cluster (a River periodic job, run by nodes
	// with workers); negative disables it (tests drive it themselves).
	LessonCompletion time.Duration
	// Retention: the retention periodic jobs, one per kind (event history
	// and idempotency keys included; store/retention.go).
	Retention store.RetentionConfig
	// RedisClusterAddrs are the seed nodes of a Redis Cluster: the broker
	// uses sharded pub/sub there. Set this or RedisURL, not both.
	RedisClusterAddrs []string
	// Presence tunes viewer counts and "online" (realtime.Presence): its
	// sync interval (the coalescing window) and expiry.
	Presence realtime.PresenceOptions
}

// Parts are what the node built that its front end uses.
type Parts struct {
	DB       *store.DB               // publishes what its writes commit through this node
	ReadDB   *store.DB               // public availability reads (Config.ReadDB, or DB)
	Redis    goredis.UniversalClient // nil in single-node mode
	Hub      *hub.Hub
	Presence *realtime.Presence // viewer counts and who is online, across nodes
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Front is the node's front end: it serves connections until Shutdown,
// which also closes the hub's sockets.
type Front interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// Node is a running hub node: front end, hub, broker, outbox publisher and
// relay, job workers and loops, wired together. hubd runs one; tests run
// several in a process.
type Node struct {
	Front    Front
	DB       *store.DB // the node's store: its writes publish through this node
	Hub      *hub.Hub
	Presence *realtime.Presence
	Registry *prometheus.Registry
	Redis    goredis.UniversalClient
	Notify   *notify.Service

	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

// New builds a node, starts its background work (broker, publisher, relay,
// job workers, loops) and its front end from front; call Serve to accept
// connections and Shutdown to stop.
func New(cfg Config, reg *prometheus.Registry, front func(Parts) (Front, error)) (*Node, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	rtMetrics := realtime.NewMetrics(reg)
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{Registry: reg, cancel: cancel, log: log}
	fail := func(err error) (*Node, error) {
		cancel()
		if n.Redis != nil {
			n.Redis.Close()
		}
		return nil, err
	}

	var broker realtime.Broker
	switch {
	case len(cfg.RedisClusterAddrs) > 0:
		cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cfg.RedisClusterAddrs})
		n.Redis = cc
		broker = redis.NewClusterBroker(cc, cfg.RedisPrefix+"ev:", rtMetrics, log)
	case cfg.RedisURL != "":
		opt, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fail(fmt.Errorf("parse REDIS_URL: %w", err))
		}
		// Request paths bound their Redis calls with context deadlines
		// (redis/bounds.go, the publisher); go-redis ignores those
		// unless told to honour them.
		opt.ContextTimeoutEnabled = true
		n.Redis = goredis.NewClient(opt)
		broker = redis.NewBroker(n.Redis, cfg.RedisPrefix+"ev:", rtMetrics, log)
	default:
		broker = realtime.NewMemoryBroker()
	}
	rtdb := cfg.RealtimeDB
	if rtdb == nil {
		rtdb = cfg.DB
	}
	cfg.Hub.NodeID = cfg.NodeID
	if cfg.Hub.Typing == nil {
		cfg.Hub.Typing = cfg.DB // typing frames: the conversations store says who may and to whom
	}
	var presence realtime.PresenceStore = realtime.NewMemoryPresence()
	if n.Redis != nil {
		presence = redis.NewPresence(n.Redis, cfg.RedisPrefix, cfg.NodeID)
	}
	n.Presence = realtime.NewPresence(presence, cfg.Presence, log)
	cfg.Hub.Presence = n.Presence
	n.Hub = hub.New(ctx, cfg.Hub, broker, rtdb, hub.NewMetrics(reg), log)
	pub := realtime.NewPublisher(broker, rtdb, rtMetrics, log)
	relay := &realtime.Relay{Store: rtdb, Broker: broker, Log: log, Metrics: rtMetrics,
		Holder: leaseHolder(cfg.NodeID), Delay: cfg.RelayDelay}

	nm := notify.NewMetrics(reg, cfg.DB)
	// Every write publishes what it committed (store.DB.WithPublisher),
	// counted by kind on the way.
	events := notify.Counting(pub, nm)
	n.DB = cfg.DB.WithPublisher(events)
	jobsDB := cfg.JobsDB
	if jobsDB == nil {
		jobsDB = cfg.DB
	}
	workDB := jobsDB.WithPublisher(events)
	cfg.Notify.Periodic = append(cfg.Notify.Periodic, upkeep(cfg, workDB, reg, log)...)
	svc, err := notify.New(workDB, nm, cfg.Notify, log)
	if err != nil {
		return fail(err)
	}
	if err := svc.Start(ctx); err != nil {
		return fail(fmt.Errorf("start job workers: %w", err))
	}
	n.Notify = svc

	n.wg.Add(4)
	go func() { defer n.wg.Done(); broker.Run(ctx, n.Hub) }() //nolint:errcheck
	go func() { defer n.wg.Done(); n.Presence.Run(ctx, n.Hub) }()
	go func() { defer n.wg.Done(); pub.Run(ctx) }()
	go func() { defer n.wg.Done(); relay.Run(ctx) }()

	readDB := cfg.ReadDB
	if readDB == nil { // never a nil *store.DB inside the front end's interface
		readDB = n.DB
	}
	if n.Front, err = front(Parts{DB: n.DB, ReadDB: readDB, Redis: n.Redis, Hub: n.Hub, Presence: n.Presence, Registry: reg, Logger: log}); err != nil {
		n.stop(context.Background())
		return nil, err
	}
	return n, nil
}

// leaseHolder names this process in the leases it holds: the node id and
// a random suffix, so a restarted node (or two nodes given one id) never
// mistakes another's lease for its own.
func leaseHolder(nodeID string) string {
	var b [6]byte
	rand.Read(b[:]) //nolint:errcheck // never fails (crypto/rand)
	return nodeID + ":" + hex.EncodeToString(b[:])
}

// Serve accepts connections on ln until Shutdown.
func (n *Node) Serve(ln net.Listener) error { return n.Front.Serve(ln) }

// Shutdown closes sockets with 1012, drains HTTP, flushes the outbox marks
// and stops background work, within ctx's deadline.
func (n *Node) Shutdown(ctx context.Context) error {
	err := n.Front.Shutdown(ctx)
	n.stop(ctx)
	return err
}

func (n *Node) stop(ctx context.Context) {
	if serr := n.Notify.Stop(ctx); serr != nil {
		n.log.Warn("job workers did not stop cleanly", "err", serr)
	}
	n.cancel()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n.log.Warn("shutdown deadline passed before background work stopped")
	}
	if n.Redis != nil {
		n.Redis.Close()
	}
}
