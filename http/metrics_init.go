package http

import "strings"

// initSeries creates, at zero, every series whose labels are known before
// the first request: each route × method × status class (2xx, 4xx, 5xx) of
// the request histogram and every booking result. A series born at 1 hides
// its first event from rate() and increase() (there is no earlier sample
// to subtract), so a route's first 5xx would never reach
// HTTPServerErrorsHigh. Called once routes are registered.
func (s *Server) initSeries() {
	m := s.metrics
	for _, r := range []string{bookingCreated, bookingConflict, bookingReplay, bookingCancelled, bookingRescheduled} {
		m.bookings.WithLabelValues(r)
	}
	seen := map[[2]string]bool{}
	for _, r := range s.app.GetRoutes(true) { // true: endpoints, not middleware
		if r.Path == "" || strings.Contains(r.Path, "*") { // catch-alls: labelled by their requests
			continue
		}
		k := [2]string{r.Path, r.Method}
		if seen[k] || r.Method == "HEAD" { // HEAD: every GET has one, rarely used
			continue
		}
		seen[k] = true
		for _, class := range []string{"2xx", "4xx", "5xx"} {
			m.requestDuration.WithLabelValues(r.Path, r.Method, class)
		}
	}
	for _, class := range []string{"4xx", "5xx"} {
		for _, method := range []string{"GET", "POST"} {
			m.requestDuration.WithLabelValues(unmatchedRoute, method, class)
		}
	}
}
