package http

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"instainstru/market"
)

// EdgeLimits bound what one client can hold open on a node. Counts are
// per node (a client spread over N nodes may hold N times as much); the
// node's total is netguard's MAX_CONNECTIONS. Zero values take defaults.
type EdgeLimits struct {
	WSPerUser          int // WS_MAX_PER_USER: sockets per signed-in user [20]
	WSPerAddress       int // WS_MAX_PER_ADDRESS: anonymous sockets per client IP [50]
	WSTopicsPerAddress int // WS_MAX_TOPICS_PER_ADDRESS: distinct availability topics watched from one client IP [500]
	// AnyAvailabilityTopic skips the check that an availability topic names
	// an instructor (tests that publish to random topics). Never in
	// production: an anonymous socket could make the node subscribe its
	// broker to any number of made-up topics.
	AnyAvailabilityTopic bool
}

// connCaps counts a node's open sockets by user (signed in) or client IP
// (anonymous), and the availability topics watched from each IP.
type connCaps struct {
	lim EdgeLimits

	mu      sync.Mutex
	sockets map[string]int            // "u:<id>" or "a:<ip>" → open sockets
	topics  map[string]map[string]int // ip → topic → connections of that IP watching it

	known sync.Map // instructor id → time.Time the id was last found
}

// lim comes defaulted (Config.setDefaults, from DefaultConfig).
func newConnCaps(lim EdgeLimits) *connCaps {
	return &connCaps{lim: lim, sockets: map[string]int{}, topics: map[string]map[string]int{}}
}

// acquire takes a socket place for userID ("" = anonymous, counted by ip);
// it returns a release func, or a 429 error when the cap is reached.
func (cc *connCaps) acquire(userID, ip string) (func(), error) {
	key, limit := "a:"+ip, cc.lim.WSPerAddress
	if userID != "" {
		key, limit = "u:"+userID, cc.lim.WSPerUser
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.sockets[key] >= limit {
		return nil, &market.Error{Code: market.ERATELIMIT, Message: "too many open WebSockets for this client",
			Details: map[string]any{"limit": limit}}
	}
	cc.sockets[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			cc.mu.Lock()
			defer cc.mu.Unlock()
			if cc.sockets[key]--; cc.sockets[key] <= 0 {
				delete(cc.sockets, key)
			}
		})
	}, nil
}

// open is the number of sockets counted under key ("u:<id>", "a:<ip>").
func (cc *connCaps) open(key string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.sockets[key]
}

// releasingConn runs release once when the socket is closed (the hub
// closes the hijacked conn when the WebSocket ends). It forwards
// SyscallConn, so the hub's raw writes and io_uring keep working.
type releasingConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *releasingConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// SyscallConn exposes the socket's descriptor (syscall.Conn).
func (c *releasingConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("websocket conn has no descriptor")
	}
	return sc.SyscallConn()
}

// instructorKnown reports whether id names an instructor; found ids are
// remembered for a minute so a popular topic costs one query a minute.
func (cc *connCaps) instructorKnown(ctx context.Context, db instructorStore, id string) (bool, error) {
	if t, ok := cc.known.Load(id); ok && time.Since(t.(time.Time)) < time.Minute {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := db.InstructorByID(ctx, id, true)
	if market.ErrorCode(err) == market.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cc.known.Store(id, time.Now())
	return true, nil
}

// topicGate is one socket's hub.TopicGate: it refuses availability topics
// of unknown instructors (before the hub subscribes its broker) and more
// distinct topics per client IP than WSTopicsPerAddress.
type topicGate struct {
	cc   *connCaps
	db   instructorStore
	ip   string
	mu   sync.Mutex
	held map[string]bool
}

func (s *Server) newTopicGate(ip string) *topicGate {
	return &topicGate{cc: s.conns, db: s.deps.DB, ip: ip, held: map[string]bool{}}
}

// Admit implements hub.TopicGate.
func (g *topicGate) Admit(ctx context.Context, topic string) (code, msg string) {
	id, ok := strings.CutPrefix(topic, "availability:")
	if !ok {
		return "", "" // private topics: the hub checks the owner
	}
	if !g.cc.lim.AnyAvailabilityTopic {
		known, err := g.cc.instructorKnown(ctx, g.db, id)
		if err != nil {
			return "unavailable", "cannot check the topic now, retry shortly"
		}
		if !known {
			return "bad_topic", "no instructor has this id"
		}
	}
	cc := g.cc
	cc.mu.Lock()
	defer cc.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[topic] {
		return "", ""
	}
	ts := cc.topics[g.ip]
	if ts == nil {
		ts = map[string]int{}
		cc.topics[g.ip] = ts
	}
	if ts[topic] == 0 && len(ts) >= cc.lim.WSTopicsPerAddress {
		return "too_many_topics", "too many distinct topics watched from this address"
	}
	ts[topic]++
	g.held[topic] = true
	return "", ""
}

// Release implements hub.TopicGate; topics it did not admit are ignored.
func (g *topicGate) Release(topic string) {
	cc := g.cc
	cc.mu.Lock()
	defer cc.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.held[topic] {
		return
	}
	delete(g.held, topic)
	ts := cc.topics[g.ip]
	if ts[topic]--; ts[topic] <= 0 {
		delete(ts, topic)
	}
	if len(ts) == 0 {
		delete(cc.topics, g.ip)
	}
}
