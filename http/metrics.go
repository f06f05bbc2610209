package http

import (
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the series this package records.
type httpMetrics struct {
	bookings            *prometheus.CounterVec // result: created|conflict|idempotent_replay|cancelled|rescheduled
	availabilityChanges prometheus.Counter
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_bookings_total", Help: "Booking operations by result.",
		}, []string{"result"}),
		availabilityChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_availability_changes_total", Help: "Committed availability changes.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.bookings, m.availabilityChanges)
	}
	return m
}
