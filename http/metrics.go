package http

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns the process's metrics registry with the Go runtime
// and process collectors already registered; cmd passes it to New as
// Deps.Registry and every package registers its own series on it.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// unmatchedRoute labels requests that no route matched, so that scanners
// probing random paths cannot create one series per path.
const unmatchedRoute = "unmatched"

// httpMetrics are the series this package records.
type httpMetrics struct {
	bookings *prometheus.CounterVec // result: created|conflict|idempotent_replay|cancelled|rescheduled

	requestDuration *prometheus.HistogramVec // route (template), method, status_class
	inFlight        prometheus.Gauge
	dependencyUp    *prometheus.GaugeVec // dependency: postgres|redis; set by /ready and before each scrape
	lastUp          sync.Map             // dependency → bool, last state seen, so only changes are logged
}

// newHTTPMetrics creates the series and registers them on reg; a nil reg
// (or a nil *prometheus.Registry) leaves them unregistered, which tests of
// other areas use to skip metrics entirely.
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_bookings_total", Help: "Booking operations by result.",
		}, []string{"result"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "instainstru_http_request_duration_seconds",
			Help: "Time to serve an HTTP request, by route template, method and status class.",
			// Fine around the SPEC's targets (availability p99 ≤ 5 ms,
			// bookings p99 ≤ 15 ms), coarse up to multi-second stalls.
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status_class"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "instainstru_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		dependencyUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "instainstru_dependency_up",
			Help: "1 when the dependency answered its last readiness ping, 0 when it did not.",
		}, []string{"dependency"}),
	}
	if !isNilRegisterer(reg) {
		reg.MustRegister(m.bookings, m.requestDuration, m.inFlight, m.dependencyUp)
	}
	return m
}

// isNilRegisterer reports whether reg is nil or wraps a nil pointer: New is
// handed Deps.Registry, a *prometheus.Registry, which becomes a non-nil
// interface holding nil when a caller leaves it out.
func isNilRegisterer(reg prometheus.Registerer) bool {
	if reg == nil {
		return true
	}
	v := reflect.ValueOf(reg)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// httpMetrics is the middleware that records instainstru_http_request_duration_seconds
// and instainstru_http_requests_in_flight. Register it before the routes and
// outside the access log, so it sees every request and its final status.
//
// It labels by the matched route's template (c.Route().Path, e.g.
// /api/v1/bookings/:id), never the raw path, and by status class, so the
// series count is bounded by the route table; requests no route matched are
// labelled "unmatched", whether their error reaches this middleware or an
// inner one (the access log) renders it first. To label the final status it
// renders a handler's error itself through the app's error handler, as
// Fiber's logger middleware does; middleware outside it then sees nil. A
// handler that panics is counted as 5xx and the panic goes on to the
// recoverer outside.
func (s *Server) httpMetrics() fiber.Handler {
	m := s.metrics
	return func(c *fiber.Ctx) error {
		start := time.Now()
		m.inFlight.Inc()
		self := c.Route()
		// c.Method() aliases fasthttp's request buffer, which is reused for
		// the next request; a label must own its bytes.
		method := strings.Clone(c.Method())
		returned := false
		defer func() {
			m.inFlight.Dec()
			if !returned { // panicking: the recoverer outside answers 500
				m.requestDuration.WithLabelValues(routeLabel(c.Route()), method, "5xx").
					Observe(time.Since(start).Seconds())
			}
		}()

		err := c.Next()
		if err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		returned = true

		status := c.Response().StatusCode()
		route := c.Route()
		if route == self || isRoutingMiss(err) ||
			(isMiddlewareRoute(route) && (status == fiber.StatusNotFound || status == fiber.StatusMethodNotAllowed)) {
			route = nil
		}
		m.requestDuration.WithLabelValues(routeLabel(route), method, statusClass(status)).
			Observe(time.Since(start).Seconds())
		return nil
	}
}

// isRoutingMiss reports whether err is Fiber's own answer when no route
// matched: 405, or the 404 whose message is "Cannot <METHOD> <path>".
func isRoutingMiss(err error) bool {
	if errors.Is(err, fiber.ErrMethodNotAllowed) {
		return true
	}
	var fe *fiber.Error
	return errors.As(err, &fe) && fe.Code == fiber.StatusNotFound && strings.HasPrefix(fe.Message, "Cannot ")
}

// isMiddlewareRoute reports whether r was registered with Use: when the
// last route a request reached is middleware and the answer is 404/405, no
// endpoint matched (an inner middleware such as the access log already
// rendered Fiber's "Cannot GET" error, so isRoutingMiss cannot see it).
// Fiber keeps this in an unexported field; reflect reads it without
// depending on anything else. Should a Fiber upgrade rename the field, this
// returns false and TestHTTPMetricsMiddlewareLabelsByRouteTemplate fails.
func isMiddlewareRoute(r *fiber.Route) bool {
	if r == nil {
		return false
	}
	f := reflect.ValueOf(r).Elem().FieldByName("use")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// routeLabel is the template the route was registered with (bounded by the
// route table), or unmatchedRoute when no route served the request.
func routeLabel(r *fiber.Route) string {
	if r == nil || r.Path == "" {
		return unmatchedRoute
	}
	return r.Path
}

// statusClass maps 200 → "2xx" and so on; anything outside 100–599 is
// "other".
func statusClass(status int) string {
	switch {
	case status >= 100 && status < 600:
		return strconv.Itoa(status/100) + "xx"
	default:
		return "other"
	}
}

// errAlreadyRegistered tells whether a Register failed only because the
// same collector is already there (cmd may register pool collectors too).
func errAlreadyRegistered(err error) bool {
	var are prometheus.AlreadyRegisteredError
	return errors.As(err, &are)
}
