package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"instainstru/market"
)

// Presence counts, across nodes, the distinct viewers of each instructor's
// week (market.PresenceViewer has who counts) and which users have a live
// connection ("online"). The hub tells it who watches what on this node
// (Watch, Unwatch, Connected, Disconnected: cheap, never blocking); once
// per Interval it syncs this node's part with the PresenceStore, which
// answers the counts over every live node, and pushes
// {"type":"presence","topic","watching":N} to this node's subscribers of
// each topic whose count changed since it last pushed there — so each
// connection gets at most one presence frame per Interval, from its own
// node, and a change anywhere reaches every node's viewers within about
// two intervals. A connection whose subscription has gone live is also
// sent the current count at the next sync, changed or not.
//
// Presence frames are ephemeral (no seq, never stored or replayed; see
// EphemeralPublisher), delivered by LocalDeliverer. Expiry is the store's:
// a node that stops syncing (crashed, cut off from Redis) stops counting
// once its entries expire, PresenceOptions.TTL after its last sync.
type Presence struct {
	store PresenceStore
	opts  PresenceOptions
	log   *slog.Logger

	mu       sync.Mutex
	topics   map[string]*presTopic
	users    map[string]int  // signed-in user → connections on this node
	userDiff map[string]bool // not yet synced: true came online, false went offline
	usersAll bool            // the store must be given the whole user set
	failing  bool            // the last sync failed (logged once)
}

// presTopic is this node's part of one topic's presence.
type presTopic struct {
	viewers map[string]int // viewer (market.PresenceViewer) → local connections counting as it
	subs    int            // local connections subscribed, counted or not: they get the frames
	changed bool           // viewers changed since the last successful sync
	last    int            // count last pushed here; -1 none yet
	greet   []string       // connections gone live since the last push
}

// PresenceOptions tune presence; zero values take the defaults in brackets.
type PresenceOptions struct {
	Interval time.Duration // sync and push period, the coalescing window [1s]
	TTL      time.Duration // a node's entries outlive its last sync by this [3×Interval]
}

// PresenceStore is where the nodes' parts of presence meet (package redis
// across nodes; MemoryPresence on one node). Sync writes this node's part
// and refreshes its expiry; entries of a node that stops syncing expire
// after the TTL it was written with.
type PresenceStore interface {
	Sync(ctx context.Context, req PresenceSync, ttl time.Duration) (PresenceCounts, error)
	// Online reports which of userIDs have a connection on a live node.
	Online(ctx context.Context, userIDs []string) (map[string]bool, error)
	// Leave removes this node's part at once (a clean shutdown).
	Leave(ctx context.Context, topics []string) error
}

// PresenceSync is one node's part, as of one sync.
type PresenceSync struct {
	Topics      map[string]PresenceTopic
	UsersAdd    []string // came online here since the last sync
	UsersRemove []string // went offline here since the last sync
	UsersAll    bool     // UsersAdd is this node's whole set: replace what the store has
	Users       int      // signed-in users connected here now
}

// PresenceTopic is this node's part of one topic.
type PresenceTopic struct {
	Local   int      // distinct viewers on this node
	Changed bool     // Viewers holds them all: replace what the store has
	Viewers []string // set when Changed
	Count   bool     // this node has subscribers: the count across nodes is wanted
}

// PresenceCounts is what a sync answers.
type PresenceCounts struct {
	Watching  map[string]int // distinct viewers over live nodes, for each topic with Count
	Lost      []string       // topics whose entry the store no longer had (expired, store restarted)
	UsersLost bool           // likewise for the online set
}

// LocalDeliverer queues frames on this node's subscribers of a topic (the
// hub's DeliverLocal): all of them, or those with the given connection ids.
type LocalDeliverer interface {
	DeliverLocal(topic string, frame []byte, conns ...string)
}

// NewPresence returns a tracker over store; Run syncs it.
func NewPresence(store PresenceStore, opts PresenceOptions, log *slog.Logger) *Presence {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 3 * opts.Interval
	}
	return &Presence{store: store, opts: opts, log: log, topics: map[string]*presTopic{},
		users: map[string]int{}, userDiff: map[string]bool{}}
}

// Watch notes that connection connID of userID ("" anonymous) subscribed
// to topic on this node.
func (p *Presence) Watch(topic, userID, connID string) {
	if !strings.HasPrefix(topic, "availability:") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.topics[topic]
	if t == nil {
		t = &presTopic{viewers: map[string]int{}, last: -1}
		p.topics[topic] = t
	}
	t.subs++
	if v, ok := market.PresenceViewer(topic, userID, connID); ok {
		t.viewers[v]++
		t.changed = t.changed || t.viewers[v] == 1
	}
}

// Live notes that connID's subscription to topic is live: the next sync
// sends it the current count, changed or not (a frame sent before it was
// live would not have reached it).
func (p *Presence) Live(topic, connID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.topics[topic]; t != nil {
		t.greet = append(t.greet, connID)
	}
}

// Unwatch undoes Watch (unsubscribed, refused, or disconnected).
func (p *Presence) Unwatch(topic, userID, connID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.topics[topic]
	if t == nil {
		return
	}
	t.subs--
	if i := slices.Index(t.greet, connID); i >= 0 {
		t.greet = slices.Delete(t.greet, i, i+1)
	}
	if v, ok := market.PresenceViewer(topic, userID, connID); ok && t.viewers[v] > 0 {
		if t.viewers[v]--; t.viewers[v] == 0 {
			delete(t.viewers, v)
			t.changed = true
		}
	}
	if t.subs <= 0 && !t.changed {
		delete(p.topics, topic)
	}
}

// Connected notes a connection of signed-in userID on this node.
func (p *Presence) Connected(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[userID]++; p.users[userID] == 1 {
		p.userDiff[userID] = true
	}
}

// Disconnected undoes Connected.
func (p *Presence) Disconnected(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users[userID] <= 1 {
		delete(p.users, userID)
		p.userDiff[userID] = false
		return
	}
	p.users[userID]--
}

// Online reports which of userIDs have a live connection on any node.
func (p *Presence) Online(ctx context.Context, userIDs []string) (map[string]bool, error) {
	return p.store.Online(ctx, userIDs)
}

// Run syncs every Interval and pushes changed counts through local until
// ctx ends; then it takes this node's part out of the store.
func (p *Presence) Run(ctx context.Context, local LocalDeliverer) {
	// A timer set after each sync, not a ticker: a late sync never makes
	// the next one come early, so pushes stay at least Interval apart.
	tick := time.NewTimer(p.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := p.store.Leave(lctx, p.topicNames()); err != nil {
				p.log.Warn("presence: leave", "err", err)
			}
			return
		case <-tick.C:
			sctx, cancel := context.WithTimeout(ctx, p.opts.Interval)
			p.Sync(sctx, local)
			cancel()
			tick.Reset(p.opts.Interval)
		}
	}
}

func (p *Presence) topicNames() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Keys(p.topics))
}

// presenceFrame is the frame of SPEC §4.3.
func presenceFrame(topic string, n int) []byte {
	b, _ := json.Marshal(struct {
		Type     string `json:"type"`
		Topic    string `json:"topic"`
		Watching int    `json:"watching"`
	}{"presence", topic, n})
	return b
}
