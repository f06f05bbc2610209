package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	nethttp "net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"instainstru/market"
)

// readyPingTimeout bounds each dependency ping (in parallel), so /ready
// answers within ~200 ms even when Postgres or Redis hangs.
const readyPingTimeout = 150 * time.Millisecond

// Dependency names, used in /ready's body and as the `dependency` label.
const (
	depPostgres = "postgres"
	depRedis    = "redis"
)

// opsRoutes registers /health, /ready and /metrics on the app root and the
// pool collectors of the server's Postgres and Redis clients on the registry.
func (s *Server) opsRoutes() {
	s.registerPoolCollectors()
	if s.cfg.MonitoringKey == "" && s.cfg.Env == "production" {
		s.log.Warn("MONITORING_API_KEY is not set: /metrics is readable by anyone who can reach this port")
	}
	s.app.Get("/health", s.health)
	s.app.Get("/ready", s.ready)
	metrics := adaptor.HTTPHandler(s.promHandler())
	s.app.Get("/metrics", func(c *fiber.Ctx) error {
		if !s.monitoringAuthorized(c.Get("X-Monitoring-API-Key"), c.Get(fiber.HeaderAuthorization)) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return &market.Error{Code: market.EUNAUTHORIZED,
				Message: "a monitoring API key is required (X-Monitoring-API-Key or Authorization: Bearer)"}
		}
		// Refresh instainstru_dependency_up so that it is current at every
		// scrape, even when nothing else probes /ready.
		s.checkDependencies(c.UserContext())
		return metrics(c)
	})
}

// registerPoolCollectors exports the Postgres pool stats and Deps.Collectors
// (the Redis pool's). A collector that cmd already registered is left as it
// is.
func (s *Server) registerPoolCollectors() {
	if s.deps.Registry == nil {
		return
	}
	var cs []prometheus.Collector
	if s.deps.DB != nil {
		cs = append(cs, s.deps.DB.Collectors()...)
	}
	cs = append(cs, s.deps.Collectors...)
	for _, c := range cs {
		if err := s.deps.Registry.Register(c); err != nil && !errAlreadyRegistered(err) {
			s.log.Error("register pool collector", slog.Any("err", err))
		}
	}
}

// promHandler serves the registry in the Prometheus text format. A
// collector that fails is reported in the log and the rest is still served.
func (s *Server) promHandler() nethttp.Handler {
	var g prometheus.Gatherer = prometheus.NewRegistry()
	if s.deps.Registry != nil {
		g = s.deps.Registry
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// health is liveness: the process is up and serving. It checks no
// dependency, so an orchestrator never restarts a node because Postgres is
// down (that is what /ready is for).
func (s *Server) health(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok", "node": s.cfg.NodeID})
}

// ready is readiness: "can this node serve the REST API", i.e. Postgres
// answers a ping within readyPingTimeout. Then it answers 200, with status
// "ready", or "degraded" when Redis (configured) does not answer: REST
// reads and writes still work, only cross-node realtime and shared rate
// limits suffer, and taking every node out of the load balancer for a Redis
// outage would turn it into a full one (instainstru_dependency_up and
// HubDependencyDown still report it). Without Postgres it answers 503
// (service_unavailable) in the API's error shape. Either way the checks
// name every dependency with "ok", "unreachable" or "timeout".
func (s *Server) ready(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	results := s.checkDependencies(c.UserContext())
	checks := make(map[string]any, len(results))
	var failed []string
	status := "ready"
	for _, r := range results {
		checks[r.name] = r.state()
		switch {
		case r.err == nil:
		case r.name == depRedis:
			status = "degraded"
		default:
			failed = append(failed, r.name)
		}
	}
	if len(failed) > 0 {
		return &market.Error{Code: market.EUNAVAILABLE,
			Message: "not ready: " + strings.Join(failed, ", ") + " not reachable", Details: checks}
	}
	return c.JSON(fiber.Map{"status": status, "node": s.cfg.NodeID, "checks": checks})
}

// dependencyResult is the outcome of one readiness ping.
type dependencyResult struct {
	name string
	err  error
}

func (r dependencyResult) state() string {
	switch {
	case r.err == nil:
		return "ok"
	case errors.Is(r.err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "unreachable"
	}
}

// checkDependencies pings every configured dependency in parallel, records
// instainstru_dependency_up and logs each change of state once (not on
// every probe, which a load balancer sends every few seconds).
func (s *Server) checkDependencies(ctx context.Context) []dependencyResult {
	type dep struct {
		name string
		ping func(context.Context) error
	}
	var deps []dep
	if s.deps.DB != nil {
		deps = append(deps, dep{depPostgres, s.deps.DB.Ping})
	}
	if s.deps.Redis != nil {
		deps = append(deps, dep{depRedis, s.deps.Redis.Ping})
	}
	results := make([]dependencyResult, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
			defer cancel()
			// Wait no longer than the deadline even if a client ignores its
			// context (go-redis does unless ContextTimeoutEnabled is set).
			done := make(chan error, 1)
			go func() { done <- d.ping(pctx) }()
			var err error
			select {
			case err = <-done:
			case <-pctx.Done():
				err = pctx.Err()
			}
			if err != nil && errors.Is(pctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
				err = errors.Join(context.DeadlineExceeded, err)
			}
			results[i] = dependencyResult{name: d.name, err: err}
		})
	}
	wg.Wait()
	for _, r := range results {
		s.recordDependency(r)
	}
	return results
}

func (s *Server) recordDependency(r dependencyResult) {
	up := r.err == nil
	v := 0.0
	if up {
		v = 1
	}
	s.metrics.dependencyUp.WithLabelValues(r.name).Set(v)
	prev, seen := s.metrics.lastUp.Swap(r.name, up)
	switch {
	case !up && (!seen || prev.(bool)):
		s.log.Error("dependency down", slog.String("dependency", r.name), slog.String("state", r.state()),
			slog.Any("err", r.err))
	case up && seen && !prev.(bool):
		s.log.Info("dependency recovered", slog.String("dependency", r.name))
	}
}

// monitoringAuthorized accepts the configured key from either header. With
// no key configured everything is allowed. Both sides are hashed before the
// constant-time compare so that neither the key's bytes nor its length leak
// through timing.
func (s *Server) monitoringAuthorized(apiKeyHeader, authorization string) bool {
	if s.cfg.MonitoringKey == "" {
		return true
	}
	want := sha256.Sum256([]byte(s.cfg.MonitoringKey))
	match := func(got string) bool {
		if got == "" {
			return false
		}
		h := sha256.Sum256([]byte(got))
		return subtle.ConstantTimeCompare(h[:], want[:]) == 1
	}
	bearer := ""
	if scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " "); ok && strings.EqualFold(scheme, "Bearer") {
		bearer = strings.TrimSpace(tok)
	}
	// Evaluate both so the work done does not depend on which header matched.
	a, b := match(apiKeyHeader), match(bearer)
	return a || b
}

// AdminHandler serves /metrics and /debug/pprof/ for a separate listener
// (ADMIN_ADDR) that is not exposed to the public: profiling must never be
// on the public port. Both require the monitoring key when one is set.
func (s *Server) AdminHandler() nethttp.Handler {
	mux := nethttp.NewServeMux()
	prom := s.promHandler()
	mux.Handle("GET /metrics", nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		s.checkDependencies(r.Context())
		prom.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if !s.monitoringAuthorized(r.Header.Get("X-Monitoring-API-Key"), r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(nethttp.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(fiber.Map{"error": fiber.Map{"code": market.EUNAUTHORIZED,
				"message": "a monitoring API key is required", "request_id": r.Header.Get(fiber.HeaderXRequestID)}})
			return
		}
		mux.ServeHTTP(w, r)
	})
}
