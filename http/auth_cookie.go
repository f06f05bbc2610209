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
	// markerCookieName is a script-readable companion with no secret in it
	// ("1"), set and cleared with the refresh cookie: the page spends the
	// refresh cookie on load only when it is there, so a signed-out visit
	// makes no refused request.
	markerCookieName = "ii_session"
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

// setRefreshCookie sets raw as the refresh cookie until exp, and the
// marker beside it.
func (s *Server) setRefreshCookie(c *fiber.Ctx, raw string, exp time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: refreshCookieName, Value: raw, Path: refreshCookiePath,
		Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: s.cookieSecure(),
	})
	c.Cookie(&fiber.Cookie{
		Name: markerCookieName, Value: "1", Path: "/",
		Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		SameSite: fiber.CookieSameSiteStrictMode, Secure: s.cookieSecure(),
	})
}

// clearRefreshCookie tells the browser to forget the refresh cookie and
// the marker.
func (s *Server) clearRefreshCookie(c *fiber.Ctx) {
	for _, ck := range []fiber.Cookie{
		{Name: refreshCookieName, Path: refreshCookiePath, HTTPOnly: true},
		{Name: markerCookieName, Path: "/"},
	} {
		ck.Expires, ck.MaxAge = time.Unix(0, 0), -1
		ck.SameSite, ck.Secure = fiber.CookieSameSiteStrictMode, s.cookieSecure()
		c.Cookie(&ck)
	}
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
