package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"instainstru/store"
	"instainstru/store/storetest"
)

// startOpsServer serves a Server built from cfg and deps on 127.0.0.1:0 and
// returns it with its base URL; it is shut down in cleanup.
func startOpsServer(t *testing.T, cfg Config, deps Deps) (*Server, string) {
	t.Helper()
	if cfg.JWTSecret == nil {
		cfg.JWTSecret = []byte("ops-test-secret-ops-test-secret-0123")
	}
	if cfg.Env == "" {
		cfg.Env = "test"
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = 4 // bcrypt.MinCost: New hashes a dummy password at start
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(cfg, deps)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln) //nolint:errcheck // returns when shut down
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, "http://" + ln.Addr().String()
}

// newOpsRedis returns a client of the shared test Redis, closed in cleanup.
func newOpsRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	url, _ := storetest.SharedRedis(t)
	return newOpsRedisClient(t, url)
}

func newOpsRedisClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1 // a readiness ping must report the first failure, not retry it away
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// opsClosedPort returns a 127.0.0.1 port that nothing listens on.
func opsClosedPort(t *testing.T) int {
	t.Helper()
	p, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// opsSilentListener accepts connections and never answers: a dependency that
// hangs rather than refuses.
func opsSilentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func opsGet(t *testing.T, url string, header map[string]string) (int, nethttp.Header, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest(nethttp.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// opsErrorBody is the SPEC's error body.
type opsErrorBody struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Details   map[string]string `json:"details"`
		RequestID *string           `json:"request_id"`
	} `json:"error"`
}

func decodeOpsError(t *testing.T, body []byte) opsErrorBody {
	t.Helper()
	var e opsErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == nil {
		t.Fatalf("error body lacks code, message or request_id: %s", body)
	}
	return e
}

func TestMonitoringAuthorizedAcceptsOnlyTheConfiguredKey(t *testing.T) {
	const key = "k3y-for-prometheus"
	tests := []struct {
		name          string
		configured    string
		apiKey, authz string
		want          bool
	}{
		{"no key configured allows anonymous scrapes", "", "", "", true},
		{"no header is refused", key, "", "", false},
		{"X-Monitoring-API-Key with the key is accepted", key, key, "", true},
		{"Bearer with the key is accepted", key, "", "Bearer " + key, true},
		{"bearer scheme is case-insensitive", key, "", "bearer " + key, true},
		{"wrong X-Monitoring-API-Key is refused", key, "nope", "", false},
		{"wrong bearer is refused", key, "", "Bearer nope", false},
		{"a prefix of the key is refused", key, key[:5], "Bearer " + key[:5], false},
		{"the key with a suffix is refused", key, key + "x", "", false},
		{"Basic scheme with the key is refused", key, "", "Basic " + key, false},
		{"a bare key in Authorization is refused", key, "", key, false},
		{"a wrong API key does not hide a right bearer", key, "nope", "Bearer " + key, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{MonitoringKey: tt.configured}}
			if got := s.monitoringAuthorized(tt.apiKey, tt.authz); got != tt.want {
				t.Fatalf("monitoringAuthorized(%q, %q) = %v, want %v", tt.apiKey, tt.authz, got, tt.want)
			}
		})
	}
}

func TestMetricsEndpointRequiresTheKeyWhenOneIsSet(t *testing.T) {
	t.Parallel()
	const key = "scrape-me-please"
	_, base := startOpsServer(t, Config{MonitoringKey: key}, Deps{DB: storetest.NewDB(t), Registry: NewRegistry()})
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no credentials → 401", nil, 401},
		{"wrong X-Monitoring-API-Key → 401", map[string]string{"X-Monitoring-API-Key": "wrong"}, 401},
		{"wrong bearer → 401", map[string]string{"Authorization": "Bearer wrong"}, 401},
		{"X-Monitoring-API-Key → 200", map[string]string{"X-Monitoring-API-Key": key}, 200},
		{"Authorization: Bearer → 200", map[string]string{"Authorization": "Bearer " + key}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := opsGet(t, base+"/metrics", tt.header)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			if tt.want == 401 {
				e := decodeOpsError(t, body)
				if e.Error.Code != "unauthorized" {
					t.Fatalf("code %q, want unauthorized", e.Error.Code)
				}
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge", hdr.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(body), "instainstru_") || strings.Contains(string(body), "go_goroutines") {
					t.Fatalf("401 leaked metrics: %s", body)
				}
				return
			}
			if !strings.Contains(string(body), "instainstru_pg_pool_max_conns") || !strings.Contains(string(body), "go_goroutines") {
				t.Fatalf("200 body lacks expected series: %.500s", body)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("Content-Type %q, want the Prometheus text format", ct)
			}
		})
	}
}

func TestMetricsEndpointIsOpenWithoutAKey(t *testing.T) {
	t.Parallel()
	_, base := startOpsServer(t, Config{}, Deps{DB: storetest.NewDB(t), Registry: NewRegistry()})
	status, _, body := opsGet(t, base+"/metrics", nil)
	if status != 200 || !strings.Contains(string(body), "instainstru_") {
		t.Fatalf("status %d body %.300s, want 200 with instainstru_ series", status, body)
	}
}

func TestHealthIsUpEvenWhenDependenciesAreDown(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/none?sslmode=disable", opsClosedPort(t))
	_, base := startOpsServer(t, Config{NodeID: "node-h"}, Deps{DB: unreachableDB(t, url), Registry: NewRegistry()})
	status, hdr, body := opsGet(t, base+"/health", nil)
	if status != 200 {
		t.Fatalf("status %d, want 200: %s", status, body)
	}
	var got struct{ Status, Node string }
	if err := json.Unmarshal(body, &got); err != nil || got.Status != "ok" || got.Node != "node-h" {
		t.Fatalf("body %s (err %v), want status ok and node node-h", body, err)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}
}

func TestReadyReportsEachDependency(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	downURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/none?sslmode=disable&connect_timeout=1", opsClosedPort(t))

	tests := []struct {
		name        string
		db          *store.DB
		redis       func(t *testing.T) redis.UniversalClient
		wantStatus  int
		wantDetails map[string]string // dependency → ok|unreachable|timeout
		wantUp      map[string]float64
	}{
		{
			name: "postgres and redis up → 200", db: db, redis: newOpsRedis, wantStatus: 200,
			wantDetails: map[string]string{"postgres": "ok", "redis": "ok"},
			wantUp:      map[string]float64{"postgres": 1, "redis": 1},
		},
		{
			name: "single node without redis checks only postgres → 200", db: db, wantStatus: 200,
			wantDetails: map[string]string{"postgres": "ok"},
			wantUp:      map[string]float64{"postgres": 1},
		},
		{
			name: "redis on a closed port → 200 degraded naming redis", db: db, wantStatus: 200,
			redis: func(t *testing.T) redis.UniversalClient {
				return newOpsRedisClient(t, fmt.Sprintf("redis://127.0.0.1:%d/0", opsClosedPort(t)))
			},
			wantDetails: map[string]string{"postgres": "ok", "redis": "unreachable"},
			wantUp:      map[string]float64{"postgres": 1, "redis": 0},
		},
		{
			name: "redis that never answers → 200 degraded, timeout within the deadline", db: db, wantStatus: 200,
			redis: func(t *testing.T) redis.UniversalClient {
				return newOpsRedisClient(t, "redis://"+opsSilentListener(t)+"/0")
			},
			wantDetails: map[string]string{"postgres": "ok", "redis": "timeout"},
			wantUp:      map[string]float64{"postgres": 1, "redis": 0},
		},
		{
			name: "postgres on a closed port → 503 naming postgres", db: unreachableDB(t, downURL), redis: newOpsRedis,
			wantStatus:  503,
			wantDetails: map[string]string{"postgres": "unreachable", "redis": "ok"},
			wantUp:      map[string]float64{"postgres": 0, "redis": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := Deps{DB: tt.db, Registry: prometheus.NewRegistry()}
			if tt.redis != nil {
				withRedis(&deps, tt.redis(t), "")
			}
			s, base := startOpsServer(t, Config{NodeID: "node-r"}, deps)
			start := time.Now()
			status, _, body := opsGet(t, base+"/ready", nil)
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("/ready took %v; pings must be bounded by %v", took, readyPingTimeout)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			var details map[string]string
			if status == 200 {
				var ok struct {
					Status string            `json:"status"`
					Checks map[string]string `json:"checks"`
				}
				want := "ready"
				if r := tt.wantDetails["redis"]; r != "" && r != "ok" {
					want = "degraded" // REST still works without Redis
				}
				if err := json.Unmarshal(body, &ok); err != nil || ok.Status != want {
					t.Fatalf("body %s (err %v), want status %s", body, err, want)
				}
				details = ok.Checks
			} else {
				e := decodeOpsError(t, body)
				if e.Error.Code != "service_unavailable" {
					t.Fatalf("code %q, want service_unavailable", e.Error.Code)
				}
				for dep, state := range tt.wantDetails {
					if state != "ok" && !strings.Contains(e.Error.Message, dep) {
						t.Fatalf("message %q does not name the failed dependency %s", e.Error.Message, dep)
					}
				}
				details = e.Error.Details
			}
			// go-redis retries a refused dial with a back-off that can run
			// past the 150 ms ping deadline on a loaded machine: a closed
			// port may read as either failure.
			if tt.wantDetails["redis"] == "unreachable" && details["redis"] == "timeout" {
				details["redis"] = "unreachable"
			}
			if fmt.Sprint(details) != fmt.Sprint(tt.wantDetails) {
				t.Fatalf("checks %v, want %v", details, tt.wantDetails)
			}
			for dep, want := range tt.wantUp {
				if got := opsMetricValue(t, s.metrics.dependencyUp.WithLabelValues(dep)); got != want {
					t.Fatalf("instainstru_dependency_up{dependency=%q} = %v, want %v", dep, got, want)
				}
			}
		})
	}
}

// TestHTTPMetricsMiddlewareLabelsByRouteTemplate drives the middleware on
// its own app so that every label case is under the test's control, both
// when errors reach it and when an inner middleware (like the access log)
// renders them first.
func TestHTTPMetricsMiddlewareLabelsByRouteTemplate(t *testing.T) {
	renderErrors := func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return c.App().ErrorHandler(c, err)
		}
		return nil
	}
	layouts := []struct {
		name  string
		inner []fiber.Handler
	}{
		{"errors reach the metrics middleware", nil},
		{"an inner middleware renders errors first", []fiber.Handler{renderErrors}},
	}
	for _, layout := range layouts {
		t.Run(layout.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s := &Server{metrics: newHTTPMetrics(reg)}
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Use(func(c *fiber.Ctx) (err error) { // the server's recoverer, reduced
				defer func() {
					if r := recover(); r != nil {
						err = c.Status(500).SendString("recovered")
					}
				}()
				return c.Next()
			})
			app.Use(s.httpMetrics())
			for _, h := range layout.inner {
				app.Use(h)
			}
			var inFlightSeen float64
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString("index") })
			app.Get("/items/:id", func(c *fiber.Ctx) error {
				var m dto.Metric
				if err := s.metrics.inFlight.Write(&m); err == nil { // t.Fatal may not run off the test goroutine
					inFlightSeen = m.GetGauge().GetValue()
				}
				return c.SendString("ok")
			})
			app.Post("/items/:id/conflict", func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusConflict, "taken") })
			app.Get("/items/:id/missing", func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusNotFound, "no such item") })
			app.Get("/boom", func(c *fiber.Ctx) error { return errors.New("internal detail") })
			app.Get("/panic/:id", func(c *fiber.Ctx) error { panic("handler bug") })

			requests := []struct {
				method, path string
				wantStatus   int
			}{
				{"GET", "/", 200},
				{"GET", "/items/1", 200},
				{"GET", "/items/2", 200},
				{"GET", "/items/3", 200},
				{"POST", "/items/9/conflict", 409},
				{"GET", "/items/9/missing", 404},
				{"GET", "/boom", 500},
				{"GET", "/scanner/probe/12345", 404},
				{"GET", "/scanner/probe/67890", 404},
				{"DELETE", "/boom", 405},
				{"GET", "/panic/1", 500},
			}
			for _, r := range requests {
				resp, err := app.Test(opsRequest(r.method, r.path))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != r.wantStatus {
					t.Fatalf("%s %s: status %d, want %d", r.method, r.path, resp.StatusCode, r.wantStatus)
				}
			}

			wantCounts := map[[3]string]uint64{
				{"/", "GET", "2xx"}:                    1,
				{"/items/:id", "GET", "2xx"}:           3,
				{"/items/:id/conflict", "POST", "4xx"}: 1,
				{"/items/:id/missing", "GET", "4xx"}:   1,
				{"/boom", "GET", "5xx"}:                1,
				{unmatchedRoute, "GET", "4xx"}:         2,
				{unmatchedRoute, "DELETE", "4xx"}:      1,
				{"/panic/:id", "GET", "5xx"}:           1,
			}
			got := opsHistogramCounts(t, reg, "instainstru_http_request_duration_seconds")
			if fmt.Sprint(got) != fmt.Sprint(wantCounts) {
				t.Fatalf("series %v,\nwant %v (raw paths must never be labels)", got, wantCounts)
			}
			if inFlightSeen != 1 {
				t.Fatalf("in-flight gauge during a request = %v, want 1", inFlightSeen)
			}
			if v := opsMetricValue(t, s.metrics.inFlight); v != 0 {
				t.Fatalf("in-flight gauge after all requests = %v, want 0", v)
			}
		})
	}
}

func TestStatusClass(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{{101, "1xx"}, {200, "2xx"}, {204, "2xx"}, {304, "3xx"}, {401, "4xx"}, {503, "5xx"}, {0, "other"}, {600, "other"}}
	for _, tt := range tests {
		if got := statusClass(tt.status); got != tt.want {
			t.Errorf("statusClass(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestNewHTTPMetricsToleratesANilRegistry(t *testing.T) {
	var reg *prometheus.Registry // what Deps.Registry is when a caller leaves it out
	m := newHTTPMetrics(reg)
	m.bookings.WithLabelValues("created").Inc()
	if got := opsMetricValue(t, m.bookings.WithLabelValues("created")); got != 1 {
		t.Fatalf("unregistered counter = %v, want 1", got)
	}
}

func TestAdminHandlerServesMetricsAndPprofBehindTheKey(t *testing.T) {
	t.Parallel()
	const key = "admin-key"
	s := New(Config{MonitoringKey: key, JWTSecret: []byte("ops-test-secret-ops-test-secret-0123"), BcryptCost: 4},
		Deps{DB: storetest.NewDB(t), Registry: NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(s.AdminHandler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path string
		header     map[string]string
		want       int
		contains   string
	}{
		{"metrics without key → 401", "/metrics", nil, 401, "unauthorized"},
		{"pprof without key → 401", "/debug/pprof/", nil, 401, "unauthorized"},
		{"metrics with key → 200", "/metrics", map[string]string{"X-Monitoring-API-Key": key}, 200, "instainstru_pg_pool_max_conns"},
		{"pprof index with bearer → 200", "/debug/pprof/", map[string]string{"Authorization": "Bearer " + key}, 200, "goroutine"},
		{"goroutine profile with key → 200", "/debug/pprof/goroutine?debug=1", map[string]string{"X-Monitoring-API-Key": key}, 200, "goroutine profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := opsGet(t, srv.URL+tt.path, tt.header)
			if status != tt.want || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("status %d body %.200s, want %d containing %q", status, body, tt.want, tt.contains)
			}
		})
	}
}
