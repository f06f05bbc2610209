package http

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestKnownSeriesStartAtZero: before any request, a route's 5xx series and
// every booking result exist at 0, so the first error is seen by rate().
func TestKnownSeriesStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(Config{Env: "test", JWTSecret: testJWTSecret}, Deps{Registry: reg})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ name, a, b, c string }
	got := map[key]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch mf.GetName() {
			case "instainstru_http_request_duration_seconds":
				got[key{mf.GetName(), l["route"], l["method"], l["status_class"]}] = float64(m.GetHistogram().GetSampleCount())
			case "instainstru_bookings_total":
				got[key{mf.GetName(), l["result"], "", ""}] = m.GetCounter().GetValue()
			}
		}
	}
	for _, k := range []key{
		{"instainstru_http_request_duration_seconds", "/api/v1/bookings", "POST", "5xx"},
		{"instainstru_http_request_duration_seconds", "/api/v1/auth/login", "POST", "4xx"},
		{"instainstru_http_request_duration_seconds", "/health", "GET", "2xx"},
		{"instainstru_http_request_duration_seconds", unmatchedRoute, "GET", "4xx"},
		{"instainstru_bookings_total", "conflict", "", ""},
		{"instainstru_bookings_total", "created", "", ""},
	} {
		v, ok := got[k]
		if !ok || v != 0 {
			t.Errorf("%v: present %v value %v, want present at 0", k, ok, v)
		}
	}
	t.Logf("%d request-duration label sets pre-created", len(got))
}
