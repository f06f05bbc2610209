package http

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"instainstru/market"
	"instainstru/store/storetest"
)

func TestRegisterReturnsTokensAndUserInTheSpecShape(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
		"email": "  New.Student@Example.COM ", "password": "correct horse", "full_name": " Ana Díaz ", "role": "student",
	})
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got map[string]any
	mustJSON(t, body, &got)
	for _, k := range []string{"access_token", "refresh_token", "token_type", "expires_in", "user"} {
		if _, ok := got[k]; !ok {
			t.Errorf("response lacks %q: %s", k, body)
		}
	}
	if got["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", got["token_type"])
	}
	if ei, _ := got["expires_in"].(float64); ei < 890 || ei > 900 {
		t.Errorf("expires_in = %v, want ~900", got["expires_in"])
	}
	user := got["user"].(map[string]any)
	if len(user) != 5 || user["email_verified"] != false || user["email"] != "new.student@example.com" || user["full_name"] != "Ana Díaz" {
		t.Errorf("user = %v", user)
	}
	if roles := user["roles"].([]any); len(roles) != 1 || roles[0] != "student" {
		t.Errorf("roles = %v", roles)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response is cacheable: %q", resp.Header.Get("Cache-Control"))
	}

	// The same email again, in another case, conflicts.
	resp, body = ts.do("POST", "/api/v1/auth/register", "", map[string]string{
		"email": "new.student@example.com", "password": "another pass, quite strong 91", "full_name": "X", "role": "instructor",
	})
	if resp.StatusCode != 409 || decodeAPIError(t, body).Error.Code != market.ECONFLICT {
		t.Fatalf("duplicate email: %d %s", resp.StatusCode, body)
	}
}

func TestRegisterRefusesBadInputWith422AndWritesNothing(t *testing.T) {
	t.Parallel()
	// 13 registrations for one address: above the per-address hourly limit
	// (register_guard.go), which has its own test.
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.RegisterPerEmailPerHour = 100 })
	ok := map[string]any{"email": "a@example.com", "password": "correct horse battery staple", "full_name": "Ramona Quill", "role": "student"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"admin cannot self-register", with("role", "admin"), "role"},
		{"unknown role", with("role", "root"), "role"},
		{"missing role", with("role", nil), "role"},
		{"password of 7 bytes", with("password", "1234567"), "password"},
		{"password of 73 bytes", with("password", strings.Repeat("p", 73)), "password"},
		{"a password easy to guess", with("password", "password1"), "password"},
		{"a password with the name in it", with("password", "Ramona-9q!x7Lk"), "password"},
		{"invalid email", with("email", "not-an-email"), "email"},
		{"email with sql", with("email", "x'; DROP TABLE users;--@example.com"), "email"},
		{"blank name", with("full_name", "   "), "full_name"},
		{"name of 201 chars", with("full_name", strings.Repeat("é", 201)), "full_name"},
		{"name with NUL", with("full_name", "a\x00b"), "full_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do("POST", "/api/v1/auth/register", "", tc.body)
			if resp.StatusCode != 422 {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, body)
			}
			e := decodeAPIError(t, body)
			if e.Error.Code != market.EVALIDATION || e.Error.Details[tc.field] == nil {
				t.Fatalf("want validation error on %s: %s", tc.field, body)
			}
		})
	}
	var n int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("users written on failure: %d (%v)", n, err)
	}
	// 72 bytes exactly is accepted (a strong password: zxcvbn score ≥ 3).
	long := strings.Repeat("correct horse battery staple ", 3)[:72]
	ts.doJSON("POST", "/api/v1/auth/register", "", with("password", long), 201, nil)
}

func TestLoginRefreshRotationReuseAndLogout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, refresh0, user := ts.signUpFull(market.RoleStudent)

	// Wrong password and unknown email are the same 401.
	for _, body := range []map[string]string{
		{"email": user.Email, "password": "wrong password"},
		{"email": "nobody@example.com", "password": testPassword},
	} {
		resp, data := ts.do("POST", "/api/v1/auth/login", "", body)
		if resp.StatusCode != 401 || decodeAPIError(t, data).Error.Message != "invalid email or password" {
			t.Fatalf("bad login: %d %s", resp.StatusCode, data)
		}
	}
	var login tokenResponse
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": strings.ToUpper(user.Email), "password": testPassword}, 200, &login)
	if login.User.ID != user.ID || login.AccessToken == "" || login.RefreshToken == "" {
		t.Fatalf("login response %+v", login)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(login.RefreshToken); err != nil || len(raw) != 32 {
		t.Fatalf("refresh token is not 32 bytes base64url: %q", login.RefreshToken)
	}
	// Only the hash is stored.
	var stored int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(),
		`SELECT count(*) FROM refresh_tokens WHERE token_hash = $1 OR encode(token_hash, 'escape') = $2`,
		hashRefreshToken(login.RefreshToken), login.RefreshToken).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("stored rows matching the hash: %d (%v)", stored, err)
	}

	// Rotation: each refresh gives a new pair; the new access token works.
	var r1, r2 tokenResponse
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}, 200, &r1)
	if r1.RefreshToken == login.RefreshToken || r1.User.ID != user.ID {
		t.Fatalf("refresh did not rotate: %+v", r1)
	}
	ts.doJSON("GET", "/api/v1/auth/me", r1.AccessToken, nil, 200, nil)
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": r1.RefreshToken}, 200, &r2)

	// Reuse of a spent token: 401, and the whole family (r2 too) is revoked.
	resp, data := ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": r1.RefreshToken})
	if resp.StatusCode != 401 {
		t.Fatalf("reuse: %d %s", resp.StatusCode, data)
	}
	resp, data = ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": r2.RefreshToken})
	if resp.StatusCode != 401 {
		t.Fatalf("family member after reuse: %d %s", resp.StatusCode, data)
	}
	// Another family (from sign-up) is untouched by that revocation.
	var other tokenResponse
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh0}, 200, &other)

	// Logout revokes the family: its current token no longer refreshes.
	ts.doJSON("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": other.RefreshToken}, 204, nil)
	resp, _ = ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": other.RefreshToken})
	if resp.StatusCode != 401 {
		t.Fatalf("refresh after logout: %d", resp.StatusCode)
	}
	// Logging out twice, or with an unknown token, is harmless.
	ts.doJSON("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": other.RefreshToken}, 204, nil)
	ts.doJSON("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": "garbage"}, 204, nil)
	// Garbage refresh token.
	resp, _ = ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "garbage"})
	if resp.StatusCode != 401 {
		t.Fatalf("garbage refresh: %d", resp.StatusCode)
	}
}

func TestExpiredRefreshTokenIsRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.RefreshTTL = time.Millisecond })
	_, refresh, _ := ts.signUpFull(market.RoleStudent)
	time.Sleep(5 * time.Millisecond) // past the token's 1 ms lifetime
	resp, body := ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	if resp.StatusCode != 401 {
		t.Fatalf("expired refresh: %d %s", resp.StatusCode, body)
	}
}

func TestConcurrentRefreshWithOneTokenLetsAtMostOneThrough(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, refresh, _ := ts.signUpFull(market.RoleStudent)
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() {
			resp, _ := ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
			codes <- resp.StatusCode
		}()
	}
	ok := 0
	for range n {
		switch c := <-codes; c {
		case 200:
			ok++
		case 401:
		default:
			t.Fatalf("unexpected status %d", c)
		}
	}
	if ok > 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded", ok)
	}
}

func TestMeReturnsUserRolesAndPermissionsFromTheDatabase(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, u := ts.signUp(market.RoleInstructor)
	var me meResponse
	ts.doJSON("GET", "/api/v1/auth/me", tok, nil, 200, &me)
	if me.User.ID != u.ID || me.User.Email != u.Email || !slices.Equal(me.Roles, []string{"instructor"}) {
		t.Fatalf("me = %+v", me)
	}
	for _, p := range []string{market.PermAvailabilityManage, market.PermProfileManage, market.PermBookingsRead} {
		if !slices.Contains(me.Permissions, p) {
			t.Errorf("instructor lacks %s: %v", p, me.Permissions)
		}
	}
	if slices.Contains(me.Permissions, market.PermBookingsCreate) || slices.Contains(me.Permissions, market.PermUsersManage) {
		t.Errorf("instructor has student/admin permissions: %v", me.Permissions)
	}
}

// signToken signs claims with method and key, for the JWT table.
func signToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestAccessTokensThatMustBeRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	good, u := ts.signUp(market.RoleStudent)
	ts.doJSON("GET", "/api/v1/auth/me", good, nil, 200, nil)

	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": u.ID, "iss": ts.cfg.JWTIssuer, "aud": ts.cfg.JWTAudience,
			"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": uuid.NewString(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	noneTok := signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))
	// A token whose header says "none" but carries an HMAC signature.
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	parts := strings.Split(signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(nil)), ".")
	noneWithSig := hdr + "." + parts[1] + "." + parts[2]

	deletedTok, deleted := ts.signUp(market.RoleStudent)
	if err := ts.db.DeleteUser(context.Background(), deleted.ID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"expired", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Minute).Unix()
			c["iat"] = now.Add(-20 * time.Minute).Unix()
			c["nbf"] = now.Add(-20 * time.Minute).Unix()
		}))},
		{"no exp", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"not yet valid", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) {
			c["nbf"] = now.Add(time.Hour).Unix()
		}))},
		{"alg none", noneTok},
		{"alg none header with hmac signature", noneWithSig},
		{"RS256", signToken(t, jwt.SigningMethodRS256, rsaKey, claims(nil))},
		{"HS512 with the right secret", signToken(t, jwt.SigningMethodHS512, testJWTSecret, claims(nil))},
		{"HS384 with the right secret", signToken(t, jwt.SigningMethodHS384, testJWTSecret, claims(nil))},
		{"wrong issuer", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { c["iss"] = "evil" }))},
		{"wrong audience", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { c["aud"] = "other-api" }))},
		{"no audience", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { delete(c, "aud") }))},
		{"bad signature", signToken(t, jwt.SigningMethodHS256, []byte("another-secret-of-some-length-here!!"), claims(nil))},
		{"tampered payload", func() string {
			p := strings.Split(good, ".")
			pl := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + deleted.ID + `","iss":"instainstru","aud":"instainstru-api","exp":9999999999}`))
			return p[0] + "." + pl + "." + p[2]
		}()},
		{"subject is not a uuid", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { c["sub"] = "1 OR 1=1" }))},
		{"subject is an unknown user", signToken(t, jwt.SigningMethodHS256, testJWTSecret, claims(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }))},
		{"deleted user", deletedTok},
		{"garbage", "not.a.jwt"},
		{"empty segments", ".."},
		{"refresh token used as access token", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do("GET", "/api/v1/auth/me", tc.token, nil)
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
			}
			if decodeAPIError(t, body).Error.Code != market.EUNAUTHORIZED {
				t.Fatalf("code: %s", body)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("no WWW-Authenticate challenge")
			}
		})
	}

	// Header variants.
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic " + good, "Token " + good, good} {
		req := newReq(t, "GET", "/api/v1/auth/me", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, body := ts.send(req)
		if resp.StatusCode != 401 {
			t.Errorf("Authorization %.20q: %d %s", h, resp.StatusCode, body)
		}
	}
	req := newReq(t, "GET", "/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "bearer "+good) // scheme is case-insensitive
	if resp, body := ts.send(req); resp.StatusCode != 200 {
		t.Errorf("lowercase bearer: %d %s", resp.StatusCode, body)
	}
}

func TestVerifyAccessTokenReturnsUserAndExpiry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, u := ts.signUp(market.RoleStudent)
	got, exp, err := ts.srv.VerifyAccessToken(context.Background(), tok)
	if err != nil || got.ID != u.ID || !got.Can(market.PermBookingsCreate) {
		t.Fatalf("verify: %v %+v", err, got)
	}
	if d := time.Until(exp); d < 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("expiry in %v, want ~15m", d)
	}
	_, _, err = ts.srv.VerifyAccessToken(context.Background(), "junk")
	if market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("junk token: %v", err)
	}
}

func TestLoginAndRegisterAreRateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		redis bool
	}{
		{"in-memory", false},
		{"redis", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []testOption{func(c *Config, _ *Deps) {
				c.RegisterPerIPPerMinute = 3
				c.LoginPerIPPerMinute = 6
				c.LoginFailuresPerAccountPerMinute = 2
			}}
			var prefix string
			var rdb redis.UniversalClient
			if tc.redis {
				url, p := storetest.SharedRedis(t)
				prefix = p
				rdb = newTestRedis(t, url)
				opts = append(opts, func(c *Config, d *Deps) { c.RedisPrefix = prefix; withRedis(d, rdb, prefix) })
			}
			ts := newTestServer(t, opts...)
			reg := func(i int) (int, []byte) {
				resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
					"email": "u" + strconv.Itoa(i) + "@example.com", "password": testPassword, "full_name": "U", "role": "student",
				})
				if resp.StatusCode == 429 {
					if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
						t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
					}
				}
				return resp.StatusCode, body
			}
			for i := range 3 {
				if code, body := reg(i); code != 201 {
					t.Fatalf("registration %d: %d %s", i, code, body)
				}
			}
			code, body := reg(3)
			if code != 429 || decodeAPIError(t, body).Error.Code != market.ERATELIMIT {
				t.Fatalf("4th registration: %d %s", code, body)
			}

			// Per account: 2 failures allowed, then even the right password is refused.
			login := func(email, pw string) (int, []byte) {
				resp, body := ts.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
				if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
				return resp.StatusCode, body
			}
			if code, _ := login("u0@example.com", testPassword); code != 200 { // successes are not failures
				t.Fatalf("login: %d", code)
			}
			for range 2 {
				if code, _ := login("u0@example.com", "wrong-password"); code != 401 {
					t.Fatalf("failed login: %d", code)
				}
			}
			if code, body := login("U0@example.com", testPassword); code != 429 {
				t.Fatalf("login after 2 failures: %d %s", code, body)
			}
			// Another account is not affected by u0's failures.
			if code, _ := login("u1@example.com", testPassword); code != 200 {
				t.Fatalf("other account: %d", code)
			}
			// Per IP: 6 logins in the minute in all (5 used above).
			if code, _ := login("u2@example.com", testPassword); code != 200 {
				t.Fatalf("6th login: %d", code)
			}
			if code, body := login("u2@example.com", testPassword); code != 429 {
				t.Fatalf("7th login from one IP: %d %s", code, body)
			}
			if tc.redis {
				keys, err := rdb.Keys(context.Background(), prefix+"ratelimit:*").Result()
				if err != nil || len(keys) < 3 {
					t.Fatalf("limiter keys under %q: %v %v", prefix, keys, err)
				}
			}
		})
	}
}
