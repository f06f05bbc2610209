package http

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"instainstru/market"
)

// localsKey types the keys this package stores in c.Locals, so no other
// package's string key can collide with them.
type localsKey int

const (
	localsRequestID localsKey = iota
	localsUser
	localsTokenExpiry
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

// recoverer turns a panic in a handler into a logged 500 with the SPEC's JSON
// body; the stack goes to the log, never to the client.
func (s *Server) recoverer() fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic recovered",
					"request_id", requestID(c), "method", c.Method(), "path", c.Path(),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = s.errorHandler(c, fmt.Errorf("panic: %v", r))
			}
		}()
		return c.Next()
	}
}

// requestIDMiddleware fixes the request id early so every later log line and
// error body carries it, and echoes it in the response header.
// refuseEncodedBodies answers 415 to any request body sent with a
// Content-Encoding. Fiber's Ctx.Body() inflates every listed encoding with no
// cap, so a 1 KB "gzip, gzip" body became 256 MiB in memory while the body
// limit only counted the compressed bytes. No client of this API compresses
// requests; handlers read the raw body (rawBody) so nothing inflates later.
func refuseEncodedBodies() fiber.Handler {
	return func(c *fiber.Ctx) error {
		enc := strings.TrimSpace(string(c.Request().Header.Peek(fiber.HeaderContentEncoding)))
		if enc != "" && !strings.EqualFold(enc, "identity") {
			return &market.Error{Code: codeUnsupportedMedia, Message: "compressed request bodies are not accepted (Content-Encoding must be absent or identity)"}
		}
		return c.Next()
	}
}

// rawBody is the request body exactly as received, never decompressed.
func rawBody(c *fiber.Ctx) []byte { return c.Request().Body() }

func (s *Server) requestIDMiddleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		requestID(c)
		return c.Next()
	}
}

// requestID returns the request's id: the client's X-Request-ID when it is
// sane (1..128 chars of [A-Za-z0-9-_.]), else a fresh UUID. It is computed
// once per request and also set on the response. It works on contexts that
// never went through the middleware (e.g. Fiber's body-too-large path).
func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localsRequestID).(string); ok && id != "" {
		return id
	}
	id := c.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = uuid.NewString()
	}
	c.Locals(localsRequestID, id)
	c.Set(HeaderRequestID, id)
	return id
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}

// accessLog writes one structured line per request. It deliberately logs
// only the route template and path (never the query string, headers or
// body), so tokens, passwords, Authorization headers and ws tickets cannot
// reach the log. Errors are turned into their response here so the logged
// status (and the status metrics see) is the one the client gets.
func (s *Server) accessLog() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := s.writeError(c, c.Next())
		status := c.Response().StatusCode()
		attrs := []any{
			"request_id", requestID(c),
			"method", c.Method(),
			"route", c.Route().Path,
			"path", c.Path(),
			"status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
			"bytes", len(c.Response().Body()),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user_id", u.ID)
		}
		switch {
		case status >= 500:
			s.log.Error("http request", attrs...)
		case status >= 400:
			s.log.Warn("http request", attrs...)
		default:
			s.log.Info("http request", attrs...)
		}
		return err
	}
}
