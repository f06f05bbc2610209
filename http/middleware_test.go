package http

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

func TestRequestIDIsEchoedWhenSaneAndGeneratedOtherwise(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"sane id is kept", "abc-DEF_123.x", true},
		{"128 chars is kept", strings.Repeat("a", 128), true},
		{"129 chars is replaced", strings.Repeat("a", 129), false},
		{"spaces are replaced", "abc def", false},
		{"log injection is replaced", "x\nlevel=ERROR", false},
		{"quotes are replaced", `x"y`, false},
		{"absent is generated", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newReq(t, "GET", "/api/v1/instructors/not-a-uuid", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-ID", tc.sent)
			}
			resp, body := ts.sub(t).send(req)
			got := resp.Header.Get("X-Request-ID")
			e := decodeAPIError(t, body)
			if e.Error.RequestID != got {
				t.Fatalf("body request_id %q != header %q", e.Error.RequestID, got)
			}
			if tc.kept && got != tc.sent {
				t.Fatalf("request id %q replaced by %q", tc.sent, got)
			}
			if !tc.kept && (got == tc.sent || len(got) != 36) {
				t.Fatalf("request id %q kept or not a uuid: %q", tc.sent, got)
			}
		})
	}
}

func TestFiberErrorsUseTheErrorShape(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.srv.App().Get("/test/panic", func(*fiber.Ctx) error { panic("boom: secret internals") })
	ts.srv.App().Get("/test/internal", func(*fiber.Ctx) error { return errors.New("pgx: connection refused to 10.0.0.1") })
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown route", "GET", "/api/v1/nope", 404, market.ENOTFOUND},
		{"wrong method", "DELETE", "/api/v1/categories", 405, codeMethodNotAllowed},
		{"non-uuid id", "GET", "/api/v1/instructors/1%20OR%201=1", 404, market.ENOTFOUND},
		{"panic", "GET", "/test/panic", 500, market.EINTERNAL},
		{"internal error", "GET", "/test/internal", 500, market.EINTERNAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.sub(t).do(tc.method, tc.path, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			e := decodeAPIError(t, body)
			if e.Error.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Error.Code, tc.code)
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "pgx") ||
				strings.Contains(string(body), "goroutine") {
				t.Fatalf("internal detail leaked: %s", body)
			}
		})
	}
	logs := ts.log.String()
	if !strings.Contains(logs, "panic recovered") || !strings.Contains(logs, "connection refused") {
		t.Fatalf("internal errors were not logged:\n%s", logs)
	}
}

// TestAccessLogNeverContainsSecrets sends the requests that carry secrets
// (passwords, refresh and access tokens, ws tickets in the query) and reads
// every log line the server wrote.
func TestAccessLogNeverContainsSecrets(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const password = "Sup3r-Secret-Passw0rd"
	var reg tokenResponse
	ts.doJSON("POST", "/api/v1/auth/register", "", map[string]string{
		"email": "logs@example.com", "password": password, "full_name": "Log Test", "role": "student",
	}, 201, &reg)
	var login tokenResponse
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": "logs@example.com", "password": password}, 200, &login)
	ts.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "logs@example.com", "password": password + "-wrong"})
	var refreshed tokenResponse
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}, 200, &refreshed)
	ts.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}) // reuse → 401
	ts.doJSON("GET", "/api/v1/auth/me", refreshed.AccessToken, nil, 200, nil)
	ts.do("GET", "/api/v1/auth/me", refreshed.AccessToken+"x", nil)
	const ticket = "TICKETSECRET0123456789"
	ts.do("GET", "/ws?ticket="+ticket, "", nil)
	ts.do("GET", "/api/v1/categories?ticket="+ticket+"&access_token="+refreshed.AccessToken, "", nil)
	ts.doJSON("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": refreshed.RefreshToken}, 204, nil)

	logs := ts.log.String()
	secrets := map[string]string{
		"password":              password,
		"register access token": reg.AccessToken, "register refresh token": reg.RefreshToken,
		"login access token": login.AccessToken, "login refresh token": login.RefreshToken,
		"refreshed access token": refreshed.AccessToken, "refreshed refresh token": refreshed.RefreshToken,
		"access token signature": refreshed.AccessToken[strings.LastIndexByte(refreshed.AccessToken, '.')+1:],
		"ws ticket":              ticket,
		"authorization header":   "Bearer ",
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the %s", what)
		}
	}
	// Every request was logged with the fields operators need.
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if rec["msg"] != "http request" {
			continue
		}
		lines++
		for _, k := range []string{"request_id", "method", "route", "status", "duration_ms"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("access log line lacks %s: %s", k, sc.Text())
			}
		}
		if rec["route"] == "/api/v1/auth/login" && rec["status"] != float64(200) && rec["status"] != float64(401) {
			t.Errorf("login logged with status %v", rec["status"])
		}
	}
	if lines < 10 {
		t.Fatalf("only %d access log lines:\n%s", lines, logs)
	}
}

func TestUnreachableDatabaseIs503NotA500(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	url := "postgres://postgres@" + addr + "/x?sslmode=disable&connect_timeout=2"
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.DB = unreachableDB(t, url) })
	resp, body := ts.do("GET", "/api/v1/categories", "", nil)
	if resp.StatusCode != 503 || decodeAPIError(t, body).Error.Code != market.EUNAVAILABLE {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if strings.Contains(string(body), addr) {
		t.Errorf("the address leaked: %s", body)
	}
}
