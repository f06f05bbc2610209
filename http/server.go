// Package http is the Fiber app: REST routes, middleware (request id, auth,
// RBAC, metrics, limits), the WebSocket endpoint on the same port, and the
// one place where domain error codes become HTTP statuses.
package http

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"instainstru/hub"
)

// Config is what the http layer needs from the process configuration.
type Config struct {
	Env           string // development | test | production
	NodeID        string
	JWTSecret     []byte
	JWTIssuer     string        // default "instainstru"
	JWTAudience   string        // default "instainstru-api"
	AccessTTL     time.Duration // default 15m
	RefreshTTL    time.Duration // default 30 days
	BodyLimit     int           // bytes, default 64 KiB
	MonitoringKey string        // protects /metrics when set

	// Fiber's timeouts apply to HTTP requests only: WebSockets are hijacked
	// out of fasthttp, which clears the deadlines first. Zero = defaults.
	ReadTimeout  time.Duration // default 15s
	WriteTimeout time.Duration // default 15s
	IdleTimeout  time.Duration // default 60s

	// TrustedProxies (IPs or CIDRs) may set X-Forwarded-For: behind a load
	// balancer the client IP for rate limits comes from there. Empty = the
	// socket's peer address is the client.
	TrustedProxies []string

	// Rate limits (per minute). Zero means the default.
	RegisterPerIPPerMinute           int // default 100
	LoginPerIPPerMinute              int // default 100
	LoginFailuresPerAccountPerMinute int // per account AND client IP, default 10
	LoginFailuresPerAccountPerHour   int // per account from all IPs, default 100
	TokenPerIPPerMinute              int // refresh + logout, default 300
	ExportPerUserPerMinute           int // GET /me/export, default 3

	// Search history: at most this many entries per user (the node's
	// retention job deletes what is past SEARCH_HISTORY_RETENTION).
	SearchHistoryCap int // default 100

	// Email verification and password reset (verify_reset.go).
	VerifyTokenTTL               time.Duration // VERIFY_TOKEN_TTL, default 48h
	ResetTokenTTL                time.Duration // RESET_TOKEN_TTL, default 30m
	PasswordResetPerIPPerMinute  int           // reset requests per client IP, default 20
	PasswordResetPerEmailPerHour int           // reset requests per address (known or not), default 5
	AccountTokenPerIPPerMinute   int           // verify-email and reset confirm per client IP, default 30
	VerifyResendPerUserPerHour   int           // verification resends per user, default 5
	// ResetRequestFloor: a reset request is answered no sooner than this
	// after it arrived, so its timing does not say whether the address has
	// an account. Default 250ms; negative turns it off.
	ResetRequestFloor time.Duration
	// AllowUnverifiedBooking lets accounts book before verifying their
	// email (ALLOW_UNVERIFIED_BOOKING, for load tests that register
	// thousands of students). Off by default: see README.
	AllowUnverifiedBooking bool

	Edge EdgeLimits // WebSockets per user/address, topics per address (conncaps.go)

	BcryptCost  int    // default bcrypt.DefaultCost; tests use bcrypt.MinCost
	RedisPrefix string // key prefix in Redis (REDIS_PREFIX), default "ii:"
}

// Deps are the server's collaborators, built by cmd/.
type Deps struct {
	DB       Store                 // *store.DB: every read and write (stores.go)
	ReadDB   availabilityReader    // public availability reads (availability_cache.go); nil = DB
	Search   Searcher              // search and suggest (store.Searcher); required with DB
	Redis    redis.UniversalClient // nil in single-node mode
	Hub      *hub.Hub
	Registry *prometheus.Registry
	Logger   *slog.Logger
}

// Server is one node's HTTP + WebSocket front end.
type Server struct {
	cfg     Config
	deps    Deps
	app     *fiber.App
	log     *slog.Logger
	metrics *httpMetrics
	rest    *restState // validator, rate limiters, auth helpers; built in routes()
	// routePerms maps "METHOD /full/path" to the permission the route
	// requires; filled by handle (http/permissions.go), read by OpenAPI.
	routePerms map[string]string

	tickets    ticketStore     // single-use WebSocket tickets (ws.go)
	proxies    trustedProxies  // peers whose X-Forwarded-For counts (clientip.go)
	baseCtx    context.Context // parent of every WebSocket; ends at Shutdown
	baseCancel context.CancelFunc

	availability *availabilityCache // GET availability responses by stamp (availability_cache.go)
	conns        *connCaps          // open sockets and watched topics per client (conncaps.go)
}

// New builds the Fiber app with every route registered.
func New(cfg Config, deps Deps) *Server {
	cfg.setDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, metrics: newHTTPMetrics(deps.Registry)}
	s.baseCtx, s.baseCancel = context.WithCancel(context.Background())
	s.tickets = s.newTicketStore()
	s.conns = newConnCaps(cfg.Edge)
	var badProxies []string
	s.proxies, badProxies = parseTrustedProxies(cfg.TrustedProxies)
	if len(badProxies) > 0 {
		s.log.Warn("TRUSTED_PROXIES entries ignored: not an IP or CIDR", "entries", badProxies)
	}
	s.app = fiber.New(fiber.Config{
		AppName:   "instainstru-hub",
		BodyLimit: cfg.BodyLimit,
		// Request line + headers: room for a 10 KB query string, so an
		// over-long search is the handler's clear 422, not a connection the
		// server drops mid-request (which clients see as a reset).
		ReadBufferSize:        16 << 10,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		// No ProxyHeader: Fiber would take X-Forwarded-For whole, and the
		// client writes its left part. clientIP (clientip.go) reads it.
	})
	// Hijacked WebSocket conns are ours to close (ws.go): the hijack
	// callback returns at once and the socket lives on its own goroutine.
	s.app.Server().KeepHijackedConns = true
	s.routes()
	return s
}

func (c *Config) setDefaults() {
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 15 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.JWTIssuer == "" {
		c.JWTIssuer = "instainstru"
	}
	if c.JWTAudience == "" {
		c.JWTAudience = "instainstru-api"
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = 64 << 10
	}
	if c.RegisterPerIPPerMinute == 0 {
		c.RegisterPerIPPerMinute = 100
	}
	if c.LoginPerIPPerMinute == 0 {
		c.LoginPerIPPerMinute = 100
	}
	if c.TokenPerIPPerMinute == 0 {
		c.TokenPerIPPerMinute = 300
	}
	if c.ExportPerUserPerMinute == 0 {
		c.ExportPerUserPerMinute = 3
	}
	if c.LoginFailuresPerAccountPerMinute == 0 {
		c.LoginFailuresPerAccountPerMinute = 10
	}
	if c.LoginFailuresPerAccountPerHour == 0 {
		c.LoginFailuresPerAccountPerHour = 100
	}
	if c.VerifyTokenTTL == 0 {
		c.VerifyTokenTTL = 48 * time.Hour
	}
	if c.ResetTokenTTL == 0 {
		c.ResetTokenTTL = 30 * time.Minute
	}
	if c.PasswordResetPerIPPerMinute == 0 {
		c.PasswordResetPerIPPerMinute = 20
	}
	if c.PasswordResetPerEmailPerHour == 0 {
		c.PasswordResetPerEmailPerHour = 5
	}
	if c.AccountTokenPerIPPerMinute == 0 {
		c.AccountTokenPerIPPerMinute = 30
	}
	if c.VerifyResendPerUserPerHour == 0 {
		c.VerifyResendPerUserPerHour = 5
	}
	if c.ResetRequestFloor == 0 {
		c.ResetRequestFloor = 250 * time.Millisecond
	}
	if c.SearchHistoryCap == 0 {
		c.SearchHistoryCap = 100
	}
}

// App exposes the Fiber app (tests use app.Test or Serve on a listener).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting, closes WebSockets with 1012 and drains requests.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.deps.Hub != nil {
		s.deps.Hub.Shutdown(ctx)
	}
	err := s.app.ShutdownWithContext(ctx)
	s.baseCancel()
	return err
}
