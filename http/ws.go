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
	"fmt"
	"net"
	nethttp "net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gofiber/fiber/v2"

	"instainstru/hub"
	"instainstru/market"
)

func (s *Server) realtimeRoutes(r fiber.Router) {
	s.handle(r, "POST", "/ws/ticket", market.PermRealtimeSubscribe, s.issueTicket)
	s.app.Get("/ws", s.upgrade)
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
	if err := s.putTicket(c.UserContext(), id, wsTicket{UserID: u.ID, Expires: exp}); err != nil {
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
		tk, ok, err := s.takeTicket(c.UserContext(), t)
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
