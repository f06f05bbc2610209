package http

import (
	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"
)

// restState is what the REST handlers share for the server's lifetime: the
// one validator, the rate limiters (whose counters must outlive a request)
// and the auth settings. Built once in routes().
type restState struct {
	validate   *validator.Validate
	bcryptCost int
	// dummyHash is compared against when a login names no account, so both
	// paths cost one bcrypt check.
	dummyHash []byte

	registerIPLimit    fiber.Handler
	registerEmailLimit fiber.Handler // attempts per address per hour (register_guard.go)
	loginIPLimit       fiber.Handler
	passwordLimits     []fiber.Handler // failed password checks per account, IP and device (lockout.go)
	tokenIPLimit       fiber.Handler   // refresh and logout: unauthenticated, so bounded per IP
	exportLimit        fiber.Handler   // data export per user (after authentication)
}

func (s *Server) newRestState() *restState {
	cost := s.cfg.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not-a-real-password"), cost)
	if err != nil {
		// Only an out-of-range cost fails; fall back to the default so login
		// still refuses unknown accounts in constant-ish time.
		cost = bcrypt.DefaultCost
		dummy, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), cost) //nolint:errcheck // default cost is valid
	}
	storage := s.limiterStorage()
	return &restState{
		validate:           newValidator(),
		bcryptCost:         cost,
		dummyHash:          dummy,
		registerIPLimit:    s.newLimiter(storage, "register-ip", s.cfg.RegisterPerIPPerMinute, s.clientIP, false),
		registerEmailLimit: s.newRegisterEmailLimit(storage),
		loginIPLimit:       s.newLimiter(storage, "login-ip", s.cfg.LoginPerIPPerMinute, s.clientIP, false),
		passwordLimits:     s.newPasswordLimits(storage),
		tokenIPLimit:       s.newLimiter(storage, "token-ip", s.cfg.TokenPerIPPerMinute, s.clientIP, false),
		exportLimit:        s.newLimiter(storage, "export-user", s.cfg.ExportPerUserPerMinute, func(c *fiber.Ctx) string { return currentUser(c).ID }, false),
	}
}

// routes registers every route. Middleware order: recover → request id →
// metrics → access log, so a panic anywhere still gets an id and a JSON 500.
func (s *Server) routes() {
	s.rest = s.newRestState()
	s.routePerms = map[string]string{}
	s.app.Use(s.recoverer())
	s.app.Use(s.requestIDMiddleware())
	// METRICS: request duration / in-flight (http/metrics.go). Outside the
	// access log, which renders errors first, so both see the final status.
	s.app.Use(s.httpMetrics())
	s.app.Use(s.accessLog())
	s.app.Use(securityHeaders())
	s.app.Use(s.hsts()) // hsts.go
	s.app.Use(refuseEncodedBodies())

	s.opsRoutes()
	s.app.Get("/openapi.json", s.openAPI)
	api := s.app.Group("/api/v1")
	s.authRoutes(api)
	s.verifyResetRoutes(api)
	s.passwordStrengthRoutes(api)
	s.catalogRoutes(api)
	s.areaRoutes(api)
	s.instructorRoutes(api)
	s.photoRoutes(api)
	s.userRoutes(api)
	s.availabilityRoutes(api)
	s.bookingRoutes(api)
	s.calendarRoutes(api)
	s.notificationRoutes(api)
	s.conversationRoutes(api)
	s.realtimeRoutes(api)
	s.searchRoutes(api)
	s.adminAccessRoutes(api)
	s.adminRoutes(api)
	s.privacyRoutes(api)
	s.watchRoutes(api)
	s.staticRoutes(s.app)
	s.initSeries() // metrics_init.go
}
