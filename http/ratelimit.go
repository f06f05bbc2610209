package http

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"instainstru/market"
)

// Rate limiting uses Fiber's own limiter middleware rather than
// go-redis/redis_rate: it has an in-memory store for single-node mode and
// takes any fiber.Storage (Deps.Limits), and gofiber/storage/redis wraps the
// go-redis v9 client the node already holds (redis.LimiterStorage), so both
// modes share one maintained code path. redis_rate would have needed a
// second, hand-written in-memory limiter for runs without Redis.
//
// Known limits of that middleware: with Redis it counts with a get-then-set
// under a per-node mutex (not an atomic INCR), so two nodes hit at the same
// instant may each let one extra request through; and if Redis is down it
// fails open (the counts are lost, logins keep working). Both are the right
// trade for login throttling.

// limiterStorage returns the storage the nodes share (redis.LimiterStorage,
// bounded and with a breaker), or nil (Fiber's in-memory storage) when the
// node runs alone.
func (s *Server) limiterStorage() fiber.Storage { return s.deps.Limits }

// newLimiter builds one fixed-window limiter of max requests per minute,
// keyed by name and key(c) under the configured Redis prefix.
func (s *Server) newLimiter(storage fiber.Storage, name string, max int, key func(*fiber.Ctx) string, onlyFailures bool) fiber.Handler {
	return s.newWindowLimiter(storage, name, max, time.Minute, key, onlyFailures)
}

// newWindowLimiter is newLimiter with a window other than a minute.
func (s *Server) newWindowLimiter(storage fiber.Storage, name string, max int, window time.Duration, key func(*fiber.Ctx) string, onlyFailures bool) fiber.Handler {
	prefix := s.cfg.RedisPrefix + "ratelimit:" + name + ":"
	return limiter.New(limiter.Config{
		Max:                    max,
		Expiration:             window,
		Storage:                storage,
		KeyGenerator:           func(c *fiber.Ctx) string { return prefix + key(c) },
		SkipSuccessfulRequests: onlyFailures,
		LimitReached: func(c *fiber.Ctx) error {
			retry := c.GetRespHeader(fiber.HeaderRetryAfter)
			return &market.Error{Code: market.ERATELIMIT, Message: "too many requests, retry later",
				Details: map[string]any{"limit": name, "retry_after_seconds": retry}}
		},
	})
}

// loginAccountKey keys the failed-login limit by the (normalised) email in
// the body. The email is hashed so no address is written to Redis.
func loginAccountKey(c *fiber.Ctx) string {
	sum := sha256.Sum256([]byte(bodyEmail(c)))
	return hex.EncodeToString(sum[:16])
}

// bodyEmail is the normalised "email" of a JSON body, "" when there is none
// (a malformed body is bind's to report).
func bodyEmail(c *fiber.Ctx) string {
	var body struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(rawBody(c), &body) //nolint:errcheck // bind reports malformed bodies
	return strings.ToLower(strings.TrimSpace(body.Email))
}
