package http

// Password guessing is limited without letting a stranger lock the owner
// out (OWASP "device cookies"): a successful sign-in leaves a signed
// device cookie in the browser. Checks that come with a valid device
// cookie for the same account are limited per device (a stolen cookie
// still gets only a few guesses); every other check is limited per account
// and client IP (per minute) and per account (per hour). A spray from many
// addresses therefore 429s strangers for an hour while the owner, in a
// browser they signed in from before, keeps signing in.
//
// Every password check shares these counters: login, DELETE /me (and any
// later route that asks for the current password, through
// restState.passwordChecked).

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"instainstru/market"
)

const (
	deviceCookieName = "ii_device"
	deviceCookieTTL  = 180 * 24 * time.Hour
	localsDevice     = "device-nonce" // c.Locals: the verified device cookie's nonce, or ""
)

// accountKeyOf is the key the failure limits count an account under: the
// hash of its normalised email (no address is written to Redis).
func accountKeyOf(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:16])
}

// passwordAccountKey is the account a password check is for: the signed-in
// user's (DELETE /me), else the email in the body (login, reset).
func passwordAccountKey(c *fiber.Ctx) string {
	if u := currentUser(c); u != nil {
		return accountKeyOf(u.Email)
	}
	return loginAccountKey(c)
}

// deviceMAC signs account key and nonce with a key derived from the JWT
// secret (a separate purpose, so no token of one kind is valid as the other).
func (s *Server) deviceMAC(account, nonce string) string {
	m := hmac.New(sha256.New, append([]byte("instainstru device cookie\x00"), s.cfg.JWTSecret...))
	m.Write([]byte(account + "." + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setDeviceCookie marks this browser as one the owner of email signed in
// from. HttpOnly, SameSite=Strict, Secure in production; sent to the API
// only.
func (s *Server) setDeviceCookie(c *fiber.Ctx, email string) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return // no cookie: the owner is only treated like anyone else
	}
	account, nonce := accountKeyOf(email), base64.RawURLEncoding.EncodeToString(b)
	c.Cookie(&fiber.Cookie{
		Name: deviceCookieName, Value: account + "." + nonce + "." + s.deviceMAC(account, nonce),
		Path: "/api/v1", MaxAge: int(deviceCookieTTL.Seconds()), HTTPOnly: true,
		Secure: s.cfg.Env == "production", SameSite: fiber.CookieSameSiteStrictMode,
	})
}

// trustedDevice returns the nonce of a valid device cookie for the account
// this password check is for, or "" (no cookie, forged, or another
// account's). Memoised per request.
func (s *Server) trustedDevice(c *fiber.Ctx) string {
	if v, ok := c.Locals(localsDevice).(string); ok {
		return v
	}
	nonce := ""
	parts := strings.Split(c.Cookies(deviceCookieName), ".")
	if len(parts) == 3 && parts[0] == passwordAccountKey(c) &&
		hmac.Equal([]byte(parts[2]), []byte(s.deviceMAC(parts[0], parts[1]))) {
		nonce = parts[1]
	}
	c.Locals(localsDevice, nonce)
	return nonce
}

// newPasswordLimits builds the failure limits every password check runs
// through, in order: per account (hour) and per account and IP (minute)
// for checks without a device cookie; per device (minute and hour) for
// checks with one.
func (s *Server) newPasswordLimits(storage fiber.Storage) []fiber.Handler {
	untrusted := func(c *fiber.Ctx) bool { return s.trustedDevice(c) != "" }
	trusted := func(c *fiber.Ctx) bool { return s.trustedDevice(c) == "" }
	perMin, perHour := s.cfg.LoginFailuresPerAccountPerMinute, s.cfg.LoginFailuresPerAccountPerHour
	return []fiber.Handler{
		s.skippableLimiter(storage, "login-account-failures", perHour, time.Hour, passwordAccountKey, untrusted),
		s.skippableLimiter(storage, "login-account-ip-failures", perMin, time.Minute,
			func(c *fiber.Ctx) string { return passwordAccountKey(c) + ":" + s.clientIP(c) }, untrusted),
		s.skippableLimiter(storage, "login-device-failures", perMin, time.Minute, s.trustedDevice, trusted),
		s.skippableLimiter(storage, "login-device-hour-failures", perHour, time.Hour, s.trustedDevice, trusted),
	}
}

// skippableLimiter counts failed requests (status ≥ 400) per key in a
// fixed window and answers 429 past max; skip(c) true bypasses it.
func (s *Server) skippableLimiter(storage fiber.Storage, name string, max int, window time.Duration, key func(*fiber.Ctx) string, skip func(*fiber.Ctx) bool) fiber.Handler {
	prefix := s.cfg.RedisPrefix + "ratelimit:" + name + ":"
	return limiter.New(limiter.Config{
		Max: max, Expiration: window, Storage: storage, Next: skip,
		KeyGenerator:           func(c *fiber.Ctx) string { return prefix + key(c) },
		SkipSuccessfulRequests: true,
		LimitReached: func(c *fiber.Ctx) error {
			return &market.Error{Code: market.ERATELIMIT, Message: "too many failed password attempts, retry later",
				Details: map[string]any{"limit": name, "retry_after_seconds": c.GetRespHeader(fiber.HeaderRetryAfter)}}
		},
	})
}

// passwordChecked prefixes a route's handlers with the shared password
// failure limits and respondErrors (so the limits see the real status).
func (st *restState) passwordChecked(s *Server, hs ...fiber.Handler) []fiber.Handler {
	out := append([]fiber.Handler{}, st.passwordLimits...)
	return append(append(out, s.respondErrors), hs...)
}

// resetEmailLimit bounds the reset emails sent to one address per hour.
// Past it a stranger's request gets the same 202 as any other, but no new
// link is made or mailed, so the newest link already sent keeps working;
// a request from a browser the owner signed in from is never limited.
func (s *Server) resetEmailLimit(storage fiber.Storage) fiber.Handler {
	prefix := s.cfg.RedisPrefix + "ratelimit:password-reset-email:"
	return limiter.New(limiter.Config{
		Max: s.cfg.PasswordResetPerEmailPerHour, Expiration: time.Hour, Storage: storage,
		Next:         func(c *fiber.Ctx) bool { return s.trustedDevice(c) != "" },
		KeyGenerator: func(c *fiber.Ctx) string { return prefix + loginAccountKey(c) },
		LimitReached: func(c *fiber.Ctx) error {
			c.Response().Header.Del(fiber.HeaderRetryAfter) // the same answer as under the limit
			return s.resetAccepted(c, time.Now())
		},
	})
}

// resetAccepted is the one answer to a reset request, sent no sooner than
// ResetRequestFloor after start.
func (s *Server) resetAccepted(c *fiber.Ctx, start time.Time) error {
	if wait := s.cfg.ResetRequestFloor - time.Since(start); wait > 0 {
		time.Sleep(wait)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{
		"message": "If an account uses this address, a link to choose a new password is on its way.",
	})
}
