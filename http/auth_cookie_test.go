package http

import (
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"instainstru/market"
)

// refreshCookieOf returns the Set-Cookie of the refresh cookie in resp (nil
// when it sets none).
func refreshCookieOf(resp *nethttp.Response) *nethttp.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == refreshCookieName {
			return c
		}
	}
	return nil
}

// cookieCall posts to path carrying the refresh cookie raw (none when ""),
// with X-Requested-With: fetch when fetch is true, and no body.
func (ts *testServer) cookieCall(path, raw string, fetch bool) (*nethttp.Response, []byte) {
	ts.t.Helper()
	req, err := nethttp.NewRequest("POST", path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	if raw != "" {
		req.AddCookie(&nethttp.Cookie{Name: refreshCookieName, Value: raw})
	}
	if fetch {
		req.Header.Set(headerRequestedWith, requestedWithFetch)
	}
	return ts.send(req)
}

func TestLoginAndRegisterSetTheRefreshCookieWithItsAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		publicURL  string
		wantSecure bool
	}{{"http://localhost:8080", false}, {"https://instainstru.example", true}} {
		ts := newTestServer(t, func(c *Config, _ *Deps) { c.PublicURL = tc.publicURL })
		email := "cookie-" + strings.ReplaceAll(tc.publicURL[:5], ":", "") + "@example.com"
		var reg tokenResponse
		resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
			"email": email, "password": testPassword, "full_name": "Cora Kie", "role": "student"})
		if resp.StatusCode != 201 {
			t.Fatalf("register: %d %s", resp.StatusCode, body)
		}
		mustJSON(t, body, &reg)
		for name, resp := range map[string]*nethttp.Response{
			"register": resp,
			"login":    first(ts.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": testPassword})),
		} {
			c := refreshCookieOf(resp)
			if c == nil {
				t.Fatalf("%s sets no refresh cookie: %v", name, resp.Header.Values("Set-Cookie"))
			}
			raw := strings.Join(resp.Header.Values("Set-Cookie"), "; ")
			if !c.HttpOnly || c.SameSite != nethttp.SameSiteStrictMode || c.Path != "/api/v1/auth" || c.Secure != tc.wantSecure || c.MaxAge <= 0 {
				t.Errorf("%s (%s): cookie attributes %s", name, tc.publicURL, raw)
			}
			if name == "register" && c.Value != reg.RefreshToken {
				t.Errorf("register: the cookie is not the body's refresh token")
			}
			// The script-readable marker holds no secret.
			var marker *nethttp.Cookie
			for _, k := range resp.Cookies() {
				if k.Name == markerCookieName {
					marker = k
				}
			}
			if marker == nil || marker.Value != "1" || marker.HttpOnly || marker.Path != "/" {
				t.Errorf("%s: session marker %v", name, marker)
			}
		}
	}
}

func first(resp *nethttp.Response, _ []byte) *nethttp.Response { return resp }

func TestRefreshWithTheCookieNeedsTheFetchHeaderRotatesAndReuseRevokesTheFamily(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, refresh0, user := ts.signUpFull(market.RoleStudent)

	// Without the header (what a cross-site form sends): 403, nothing spent.
	resp, body := ts.cookieCall("/api/v1/auth/refresh", refresh0, false)
	if resp.StatusCode != 403 || decodeAPIError(t, body).Error.Code != market.EFETCHHEADER {
		t.Fatalf("cookie without header: %d %s", resp.StatusCode, body)
	}
	// Neither a body token nor a cookie: 401 no_session.
	resp, body = ts.cookieCall("/api/v1/auth/refresh", "", true)
	if resp.StatusCode != 401 || decodeAPIError(t, body).Error.Code != market.ENOSESSION {
		t.Fatalf("no cookie: %d %s", resp.StatusCode, body)
	}

	// With the header: a new pair, and the cookie rotates to the new token.
	resp, body = ts.cookieCall("/api/v1/auth/refresh", refresh0, true)
	if resp.StatusCode != 200 {
		t.Fatalf("cookie refresh: %d %s", resp.StatusCode, body)
	}
	var r1 tokenResponse
	mustJSON(t, body, &r1)
	c := refreshCookieOf(resp)
	if r1.User.ID != user.ID || c == nil || c.Value != r1.RefreshToken || c.Value == refresh0 {
		t.Fatalf("refresh did not rotate the cookie: %+v cookie %v", r1, c)
	}
	ts.doJSON("GET", "/api/v1/auth/me", r1.AccessToken, nil, 200, nil)

	// The spent cookie again (a stolen copy): 401, the cookie is cleared,
	// and the family's live token is revoked too.
	resp, body = ts.cookieCall("/api/v1/auth/refresh", refresh0, true)
	if resp.StatusCode != 401 {
		t.Fatalf("reuse: %d %s", resp.StatusCode, body)
	}
	if c := refreshCookieOf(resp); c == nil || c.Value != "" || !c.Expires.Before(time.Now()) {
		t.Errorf("a refused cookie is not cleared: %v", resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := ts.cookieCall("/api/v1/auth/refresh", r1.RefreshToken, true); resp.StatusCode != 401 {
		t.Fatalf("the family's newest token after reuse: %d", resp.StatusCode)
	}
}

func TestLogoutWithTheCookieRevokesItAndClearsTheCookie(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, refresh, _ := ts.signUpFull(market.RoleStudent)
	resp, body := ts.cookieCall("/api/v1/auth/logout", refresh, false)
	if resp.StatusCode != 204 {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	c := refreshCookieOf(resp)
	if c == nil || c.Value != "" || !c.Expires.Before(time.Now()) || c.Path != "/api/v1/auth" {
		t.Errorf("logout does not clear the cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), markerCookieName+"=; expires=Thu, 01 Jan 1970") {
		t.Errorf("logout does not clear the marker: %v", resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := ts.cookieCall("/api/v1/auth/refresh", refresh, true); resp.StatusCode != 401 {
		t.Fatalf("refresh after logout: %d", resp.StatusCode)
	}
	// Signed out already (no cookie, no body): still 204.
	if resp, _ := ts.cookieCall("/api/v1/auth/logout", "", false); resp.StatusCode != 204 {
		t.Fatalf("logout without a session: %d", resp.StatusCode)
	}
}

func TestPasswordStrengthFollowsTheRegistrationRule(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for _, tc := range []struct {
		body  map[string]string
		ok    bool
		score int // minimum
	}{
		{map[string]string{"password": "password"}, false, 0},
		{map[string]string{"password": testPassword}, true, 3},
		{map[string]string{"password": "Quillon-9x!Rama", "full_name": "Ramona Quillon"}, false, 0},
	} {
		var got passwordStrength
		ts.doJSON("POST", "/api/v1/auth/password-strength", "", tc.body, 200, &got)
		if got.OK != tc.ok || got.Score < tc.score || (got.Problem == nil) != tc.ok {
			t.Errorf("%v: %+v", tc.body, got)
		}
	}
	// A refused registration says the same sentence.
	resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
		"email": "weak@example.com", "password": "password", "full_name": "Wendy Eak", "role": "student"})
	if resp.StatusCode != 422 || !strings.Contains(decodeAPIError(t, body).Error.Details["password"].(string), "too easy to guess") {
		t.Fatalf("weak password registration: %d %s", resp.StatusCode, body)
	}
}
