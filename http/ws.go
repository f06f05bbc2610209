package http

// The WebSocket endpoint shares Fiber's port. coder/websocket needs an
// http.Hijacker and Fiber runs on fasthttp, whose adaptor (v1.51) cannot
// hijack. So the Fiber handler authenticates, copies the request into a
// net/http Request, and hijacks the fasthttp connection; the hijack callback
// (which fasthttp runs after clearing its read/write deadlines, so Fiber's
// timeouts never kill an open socket) gives coder/websocket a tiny
// ResponseWriter whose Hijack writes the 101 response itself.
// See ../shared/notes/fiber-websocket.md for the measured alternatives.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"instainstru/hub"
	"instainstru/market"
)

// ticketTTL is how long a browser has to use a ticket.
const ticketTTL = 30 * time.Second

func (s *Server) realtimeRoutes(r fiber.Router) {
	s.handle(r, "POST", "/ws/ticket", market.PermRealtimeSubscribe, s.issueTicket)
	s.app.Get("/ws", s.upgrade)
}

// wsTicket is what a ticket stands for: a user and when their token expires.
type wsTicket struct {
	UserID  string    `json:"user_id"`
	Expires time.Time `json:"expires"`
}

// ticketStore keeps single-use tickets where every node can redeem them.
type ticketStore interface {
	put(ctx context.Context, id string, t wsTicket) error
	take(ctx context.Context, id string) (wsTicket, bool, error)
}

// newTicketStore uses Redis when the node has it (any node can redeem), and
// process memory in single-node mode.
func (s *Server) newTicketStore() ticketStore {
	if s.deps.Redis != nil {
		return &redisTickets{rdb: s.deps.Redis, prefix: s.cfg.RedisPrefix + "wsticket:"}
	}
	return &memoryTickets{m: map[string]memTicket{}}
}

type redisTickets struct {
	rdb    redis.UniversalClient
	prefix string
}

func (r *redisTickets) put(ctx context.Context, id string, t wsTicket) error {
	b, _ := json.Marshal(t)
	ctx, cancel := context.WithTimeout(ctx, redisCallTimeout)
	defer cancel()
	return r.rdb.Set(ctx, r.prefix+id, b, ticketTTL).Err()
}

func (r *redisTickets) take(ctx context.Context, id string) (wsTicket, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, redisCallTimeout)
	defer cancel()
	b, err := r.rdb.GetDel(ctx, r.prefix+id).Bytes()
	if err == redis.Nil {
		return wsTicket{}, false, nil
	}
	if err != nil {
		return wsTicket{}, false, err
	}
	var t wsTicket
	if err := json.Unmarshal(b, &t); err != nil {
		return wsTicket{}, false, err
	}
	return t, true, nil
}

type memoryTickets struct {
	mu sync.Mutex
	m  map[string]memTicket
}

type memTicket struct {
	t     wsTicket
	until time.Time
}

func (m *memoryTickets) put(_ context.Context, id string, t wsTicket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for k, v := range m.m { // tickets are few and short-lived; sweep on write
		if now.After(v.until) {
			delete(m.m, k)
		}
	}
	m.m[id] = memTicket{t: t, until: now.Add(ticketTTL)}
	return nil
}

func (m *memoryTickets) take(_ context.Context, id string) (wsTicket, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[id]
	delete(m.m, id)
	if !ok || time.Now().After(v.until) {
		return wsTicket{}, false, nil
	}
	return v.t, true, nil
}

// issueTicket answers POST /ws/ticket: a single-use ticket for browsers,
// which cannot set headers on a WebSocket. It carries the caller's token
// expiry, so the socket must still be refreshed with an auth frame.
func (s *Server) issueTicket(c *fiber.Ctx) error {
	u := currentUser(c)
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("ticket id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	exp := tokenExpiry(c)
	if exp.IsZero() {
		exp = time.Now().Add(s.cfg.AccessTTL)
	}
	if err := s.tickets.put(c.UserContext(), id, wsTicket{UserID: u.ID, Expires: exp}); err != nil {
		// The client sees the 503; the log (errorHandler) keeps the cause.
		return fmt.Errorf("store ticket: %w: %w", &market.Error{Code: market.EUNAVAILABLE, Message: "ticket store unavailable"}, err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"ticket": id, "expires_in": int(ticketTTL.Seconds())})
}

// upgrade authenticates GET /ws and hands the connection to the hub.
func (s *Server) upgrade(c *fiber.Ctx) error {
	if !strings.EqualFold(c.Get(fiber.HeaderUpgrade), "websocket") {
		return &market.Error{Code: market.EMALFORMED, Message: "expected a WebSocket upgrade"}
	}
	if s.deps.Hub == nil {
		return &market.Error{Code: market.EUNAVAILABLE, Message: "realtime is not enabled on this node"}
	}
	id, err := s.wsIdentity(c)
	if err != nil {
		return err
	}
	id.RequestID = requestID(c)
	id.Frames = s.deps.Hub.NewFrameBudget()
	req, err := copyRequest(c)
	if err != nil {
		return err
	}
	h := s.deps.Hub
	reauth := func(ctx context.Context, token string) (string, time.Time, error) {
		u, exp, err := s.VerifyAccessToken(ctx, token)
		if err != nil {
			return "", time.Time{}, err
		}
		return u.ID, exp, nil
	}
	log := s.log.With("request_id", id.RequestID, "user_id", id.UserID, "auth", id.Auth)
	// The socket is served on its own goroutine from the raw conn, and the
	// hijack callback returns at once: fasthttp then recycles the request
	// context and its read buffer instead of holding them for the life of
	// the socket (it does not close the conn: KeepHijackedConns, server.go).
	// A client may not send frames before it has the 101 response (RFC 6455
	// §4.1), so nothing useful is left in fasthttp's read buffer.
	ip := s.clientIP(c)
	release, err := s.conns.acquire(id.UserID, ip) // conncaps.go
	if err != nil {
		return err
	}
	id.Gate = s.newTopicGate(ip)
	raw := &releasingConn{Conn: c.Context().Conn(), release: release}
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(net.Conn) {
		go func() {
			// The hub owns the socket from Serve on (and closes it); Serve
			// returns at once, so nothing here outlives the upgrade.
			wire := hub.NewWire(raw)
			ws, err := websocket.Accept(wire.Hijacker(), req, &websocket.AcceptOptions{
				CompressionMode:    websocket.CompressionDisabled,
				InsecureSkipVerify: s.cfg.Env != "production" && s.cfg.Env != "",
				OnPingReceived:     id.Frames.OnPing, // pings count toward the frame limit
				OnPongReceived:     id.Frames.OnPong,
			})
			if err != nil {
				raw.Close() //nolint:errcheck
				log.Info("websocket accept failed", "err", err)
				return
			}
			log.Debug("websocket open")
			h.Serve(s.baseCtx, ws, wire, id, reauth)
		}()
	})
	return nil
}

// wsIdentity authenticates the upgrade: Bearer token, ?ticket=, or nobody.
// Both credentials are checked against the live user: a deleted account or
// one without realtime:subscribe gets no socket with a private topic.
func (s *Server) wsIdentity(c *fiber.Ctx) (hub.Identity, error) {
	if raw, ok := bearerToken(c.Get(fiber.HeaderAuthorization)); ok {
		u, exp, err := s.VerifyAccessToken(c.UserContext(), raw)
		if err != nil {
			return hub.Identity{}, err
		}
		if !u.Can(market.PermRealtimeSubscribe) {
			return hub.Identity{}, &market.Error{Code: market.EFORBIDDEN, Message: "missing permission " + market.PermRealtimeSubscribe}
		}
		return hub.Identity{UserID: u.ID, Auth: "token", Expires: exp}, nil
	}
	if t := c.Query("ticket"); t != "" {
		tk, ok, err := s.tickets.take(c.UserContext(), t)
		if err != nil {
			return hub.Identity{}, &market.Error{Code: market.EUNAVAILABLE, Message: "ticket store unavailable"}
		}
		if !ok {
			return hub.Identity{}, &market.Error{Code: market.EUNAUTHORIZED, Message: "ticket is invalid, used or expired"}
		}
		u, err := s.deps.DB.UserByID(c.UserContext(), tk.UserID)
		if market.ErrorCode(err) == market.ENOTFOUND {
			return hub.Identity{}, &market.Error{Code: market.EUNAUTHORIZED, Message: "account no longer exists"}
		}
		if err != nil {
			return hub.Identity{}, fmt.Errorf("load ticket user: %w", err)
		}
		if !u.Can(market.PermRealtimeSubscribe) {
			return hub.Identity{}, &market.Error{Code: market.EFORBIDDEN, Message: "missing permission " + market.PermRealtimeSubscribe}
		}
		return hub.Identity{UserID: u.ID, Auth: "ticket", Expires: tk.Expires}, nil
	}
	return hub.Identity{Auth: "anonymous"}, nil
}

// copyRequest builds a net/http request with its own copies of everything:
// fasthttp reuses its buffers once the Fiber handler returns, and the
// hijack callback runs after that.
func copyRequest(c *fiber.Ctx) (*nethttp.Request, error) {
	req, err := nethttp.NewRequest(nethttp.MethodGet, "http://"+string(c.Request().Host())+string(c.Request().RequestURI()), nil)
	if err != nil {
		return nil, &market.Error{Code: market.EMALFORMED, Message: "bad request URI"}
	}
	req.Host = string(c.Request().Host())
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	req.RemoteAddr = c.Context().RemoteAddr().String()
	c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
	return req, nil
}
