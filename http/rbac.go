package http

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// authenticate requires `Authorization: Bearer <access JWT>` and stores the
// live user (roles and permissions from the database) for currentUser;
// anything else is 401. It runs once per request; later calls reuse the
// stored user.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return nil
	}
	raw, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="instainstru"`)
		return &market.Error{Code: market.EUNAUTHORIZED, Message: "missing bearer token"}
	}
	u, exp, err := s.VerifyAccessToken(c.UserContext(), raw)
	if err != nil {
		if market.ErrorCode(err) == market.EUNAUTHORIZED {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="instainstru", error="invalid_token"`)
		}
		return err
	}
	c.Locals(localsUser, u)
	c.Locals(localsTokenExpiry, exp)
	return nil
}

// requires authenticates the caller if that has not happened yet and then
// refuses with 403 unless the user holds perm (granted to one of their roles
// in the database). It can be used alone: r.Post(path, s.requires(p), h).
func (s *Server) requires(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.authenticate(c); err != nil {
			return err
		}
		if !currentUser(c).Can(perm) {
			return &market.Error{Code: market.EFORBIDDEN, Message: "missing permission " + perm,
				Details: map[string]any{"permission": perm}}
		}
		return c.Next()
	}
}

// currentUser is the authenticated user of the request, or nil.
func currentUser(c *fiber.Ctx) *market.User {
	u, _ := c.Locals(localsUser).(*market.User)
	return u
}

// tokenExpiry is the expiry of the access token that authenticated the
// request (zero when unauthenticated).
func tokenExpiry(c *fiber.Ctx) time.Time {
	t, _ := c.Locals(localsTokenExpiry).(time.Time)
	return t
}

// bearerToken extracts the token of an `Authorization: Bearer x` header
// (scheme case-insensitive).
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
