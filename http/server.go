// Package http is the Fiber app: REST routes, middleware (request id, auth,
// RBAC, metrics, limits), the WebSocket endpoint on the same port, and the
// one place where domain error codes become HTTP statuses.
package http

import (
	"context"
	"log/slog"
	"net"
	"reflect"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"instainstru/hub"
)

// Config is what the http layer needs from the process configuration. A
// zero field takes its value from DefaultConfig, the one table of defaults.
type Config struct {
	Env         string // development | test | production
	NodeID      string
	JWTSecret   []byte
	JWTIssuer   string
	JWTAudience string
	AccessTTL   time.Duration
	RefreshTTL  time.Duration
	BodyLimit   int // bytes
	// PublicURL is the web page's address (PUBLIC_URL): the refresh cookie
	// is Secure when it is https, and calendar feed URLs start with it.
	PublicURL     string
	MonitoringKey string // protects /metrics when set

	// Fiber's timeouts apply to HTTP requests only: WebSockets are hijacked
	// out of fasthttp, which clears the deadlines first.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration

	// TrustedProxies (IPs or CIDRs) may set X-Forwarded-For: behind a load
	// balancer the client IP for rate limits comes from there. Empty = the
	// socket's peer address is the client.
	TrustedProxies []string

	// Rate limits (per minute unless named otherwise).
	RegisterPerIPPerMinute int
	// RegisterPerEmailPerHour: registration attempts per address (known
	// or not) per hour.
	RegisterPerEmailPerHour          int
	LoginPerIPPerMinute              int
	LoginFailuresPerAccountPerMinute int // per account AND client IP
	LoginFailuresPerAccountPerHour   int // per account from all IPs
	TokenPerIPPerMinute              int // refresh + logout
	ExportPerUserPerMinute           int // GET /me/export

	// Conversations (conversations.go): sends per user per minute
	// (RATE_LIMIT_MESSAGES_PER_MIN), and how long a message may stay unread
	// before it is emailed (MESSAGE_EMAIL_DELAY; negative: never).
	MessageSendPerUserPerMinute int
	MessageEmailDelay           time.Duration

	// Search history: at most this many entries per user (the node's
	// retention job deletes what is past SEARCH_HISTORY_RETENTION).
	SearchHistoryCap int

	// Email verification and password reset (verify_reset.go).
	VerifyTokenTTL               time.Duration // VERIFY_TOKEN_TTL
	ResetTokenTTL                time.Duration // RESET_TOKEN_TTL
	PasswordResetPerIPPerMinute  int           // reset requests per client IP
	PasswordResetPerEmailPerHour int           // reset requests per address (known or not)
	AccountTokenPerIPPerMinute   int           // verify-email and reset confirm per client IP
	VerifyResendPerUserPerHour   int           // verification resends per user
	// ResetRequestFloor: a reset request is answered no sooner than this
	// after it arrived, so its timing does not say whether the address has
	// an account; negative turns it off.
	ResetRequestFloor time.Duration
	// AllowUnverifiedBooking lets accounts book, and instructors be
	// booked, before verifying their email (ALLOW_UNVERIFIED_BOOKING, for
	// load tests that register thousands of students and some
	// instructors; unverified instructors stay unlisted). Off by default:
	// see docs/features/accounts.md.
	AllowUnverifiedBooking bool

	Edge EdgeLimits // WebSockets per user/address, topics per address (conncaps.go)

	BcryptCost  int    // 0 = bcrypt.DefaultCost (routes.go); tests use bcrypt.MinCost
	RedisPrefix string // key prefix in Redis (REDIS_PREFIX)
}

// Deps are the server's collaborators, built by cmd/.
type Deps struct {
	DB       Store              // *store.DB: every read and write (stores.go)
	ReadDB   availabilityReader // public availability reads (availability_cache.go); nil = DB
	Search   Searcher           // search and suggest (store.Searcher); required with DB
	Hub      *hub.Hub
	Presence Presence // who is online across nodes (presence.go); nil = nobody
	Registry *prometheus.Registry
	Logger   *slog.Logger

	// What nodes share (package redis in a multi-node deployment, wired by
	// cmd/hubd). Each nil = single-node mode for that part.
	Tickets    TicketStore            // WebSocket tickets (ws.go); nil = process memory
	Limits     fiber.Storage          // rate-limit counters (ratelimit.go); nil = in memory, per node
	Redis      Pinger                 // /ready checks it as "redis" (ops.go); nil = not checked
	Collectors []prometheus.Collector // registered beside the store's pool collectors (the Redis pool's)
}

// Pinger is a dependency that /ready probes; Ping honours ctx's deadline.
type Pinger interface {
	Ping(ctx context.Context) error
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

	tickets    TicketStore     // single-use WebSocket tickets (ws.go)
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
	s.tickets = deps.Tickets
	if s.tickets == nil {
		s.tickets = newMemoryTickets()
	}
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

// DefaultConfig is the one table of defaults: New fills every zero field of
// its Config from here, and cmd/hubd uses the same values as the defaults
// of the environment variables.
func DefaultConfig() Config {
	return Config{
		JWTIssuer:   "instainstru",
		JWTAudience: "instainstru-api",
		AccessTTL:   15 * time.Minute,
		RefreshTTL:  30 * 24 * time.Hour,
		BodyLimit:   64 << 10,

		ReadTimeout:  15 * time.Second,
		WriteTimeout: 15 * time.Second,
		IdleTimeout:  60 * time.Second,

		RegisterPerIPPerMinute:           100,
		RegisterPerEmailPerHour:          10,
		LoginPerIPPerMinute:              100,
		LoginFailuresPerAccountPerMinute: 10,
		LoginFailuresPerAccountPerHour:   100,
		TokenPerIPPerMinute:              300,
		ExportPerUserPerMinute:           3,

		MessageSendPerUserPerMinute: 60,
		MessageEmailDelay:           10 * time.Minute,

		SearchHistoryCap: 100,

		Edge: EdgeLimits{WSPerUser: 20, WSPerAddress: 50, WSTopicsPerAddress: 500},

		VerifyTokenTTL:               48 * time.Hour,
		ResetTokenTTL:                30 * time.Minute,
		PasswordResetPerIPPerMinute:  20,
		PasswordResetPerEmailPerHour: 5,
		AccountTokenPerIPPerMinute:   30,
		VerifyResendPerUserPerHour:   5,
		ResetRequestFloor:            250 * time.Millisecond,

		RedisPrefix: "ii:",
	}
}

// setDefaults sets every zero field to its value in DefaultConfig.
func (c *Config) setDefaults() {
	fillZero(reflect.ValueOf(c).Elem(), reflect.ValueOf(DefaultConfig()))
}

// fillZero sets every zero field of v to def's, field by field inside
// nested structs (Edge), so a config that sets one limit keeps the others'
// defaults.
func fillZero(v, def reflect.Value) {
	for i := range v.NumField() {
		switch f := v.Field(i); {
		case f.IsZero():
			f.Set(def.Field(i))
		case f.Kind() == reflect.Struct:
			fillZero(f, def.Field(i))
		}
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
