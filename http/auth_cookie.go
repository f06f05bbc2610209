package http

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// The refresh cookie (SPEC §4.3): the page keeps its access token in memory
// only and gets a new one from this cookie when it loads, so a new tab or a
// link opened from an email is signed in. The cookie is HttpOnly (no script
// reads it), SameSite=Strict (no other site's page sends it), scoped to
// /api/v1/auth (no other request carries it) and Secure when the page is
// served over https.
const (
	refreshCookieName = "ii_refresh"
	refreshCookiePath = "/api/v1/auth"
	// headerRequestedWith must be "fetch" when the cookie is spent: a
	// cross-site HTML form cannot set a header, so it cannot refresh.
	headerRequestedWith = "X-Requested-With"
	requestedWithFetch  = "fetch"
)

// cookieSecure says whether the refresh cookie gets the Secure attribute:
// when the page's public address is https.
func (s *Server) cookieSecure() bool {
	return strings.HasPrefix(strings.ToLower(s.cfg.PublicURL), "https://")
}

// setRefreshCookie sets raw as the refresh cookie until exp.
func (s *Server) setRefreshCookie(c *fiber.Ctx, raw string, exp time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: refreshCookieName, Value: raw, Path: refreshCookiePath,
		Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: s.cookieSecure(),
	})
}

// clearRefreshCookie tells the browser to forget the refresh cookie.
func (s *Server) clearRefreshCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: refreshCookieName, Value: "", Path: refreshCookiePath,
		Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: s.cookieSecure(),
	})
}

// presentedRefreshToken is the refresh token of a refresh or logout call:
// the body's when it has one, else the cookie's. fromCookie says which. A
// cookie spent by refresh needs X-Requested-With: fetch (needHeader), else
// EFETCHHEADER; neither body nor cookie is ENOSESSION.
func (s *Server) presentedRefreshToken(c *fiber.Ctx, needHeader bool) (raw string, fromCookie bool, err error) {
	var req refreshRequest
	if len(strings.TrimSpace(string(rawBody(c)))) > 0 {
		if err := s.bind(c, &req); err != nil {
			return "", false, err
		}
	}
	if req.RefreshToken != "" {
		return req.RefreshToken, false, nil
	}
	raw = c.Cookies(refreshCookieName)
	if raw == "" || len(raw) > 256 {
		return "", false, &market.Error{Code: market.ENOSESSION, Message: "no session: sign in"}
	}
	if needHeader && c.Get(headerRequestedWith) != requestedWithFetch {
		return "", true, &market.Error{Code: market.EFETCHHEADER,
			Message: "the refresh cookie is spent only with the header X-Requested-With: fetch"}
	}
	return raw, true, nil
}
