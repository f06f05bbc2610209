package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"instainstru/market"
	"instainstru/store/storetest"
)

func opsRequest(method, path string) *nethttp.Request {
	return httptest.NewRequest(method, path, nil)
}

// opsHistogramCounts gathers reg and returns the sample count of every
// series of the histogram name, keyed by (route, method, status_class).
func opsHistogramCounts(t *testing.T, reg prometheus.Gatherer, name string) map[[3]string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[[3]string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := opsLabels(m)
			out[[3]string{l["route"], l["method"], l["status_class"]}] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// opsMetricValue reads a single gauge or counter without a registry.
func opsMetricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	t.Fatalf("opsMetricValue reads gauges and counters, got %v", &m)
	return 0
}

func opsLabels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// opsScrape fetches /metrics with the bearer key and parses the text format.
func opsScrape(t *testing.T, base, key string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	status, _, body := opsGet(t, base+"/metrics", map[string]string{"Authorization": "Bearer " + key})
	if status != 200 {
		t.Fatalf("scrape: status %d: %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape does not parse as the Prometheus text format: %v", err)
	}
	return mfs, body
}

// opsValue returns the value of the single series of a gauge or counter
// family whose labels include want.
func opsValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("series %s is missing from /metrics", name)
	}
next:
	for _, m := range mf.GetMetric() {
		l := opsLabels(m)
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_UNTYPED:
			return m.GetUntyped().GetValue()
		}
		t.Fatalf("%s has type %v; opsValue reads gauges and counters", name, mf.GetType())
	}
	t.Fatalf("%s has no series with labels %v", name, want)
	return 0
}

// TestScrapeAfterTrafficShowsTheOperatorsSeries drives a live server and
// reads /metrics as Prometheus would: request latency by route template,
// the pools of both stores, readiness, the Go runtime and the process.
func TestScrapeAfterTrafficShowsTheOperatorsSeries(t *testing.T) {
	t.Parallel()
	const key = "live-scrape-key"
	db := storetest.NewDB(t)
	rdb := newOpsRedis(t)
	deps := Deps{DB: db, Registry: NewRegistry()}
	withRedis(&deps, rdb, "")
	_, base := startOpsServer(t, Config{MonitoringKey: key}, deps)

	for _, p := range []string{"/health", "/health", "/ready", "/no-such-route-7f3a9c"} {
		opsGet(t, base+p, nil)
	}
	mfs, body := opsScrape(t, base, key)

	t.Run("request latency is labelled by route template and status class", func(t *testing.T) {
		mf, ok := mfs["instainstru_http_request_duration_seconds"]
		if !ok || mf.GetType() != dto.MetricType_HISTOGRAM {
			t.Fatalf("instainstru_http_request_duration_seconds missing or not a histogram (is s.app.Use(s.httpMetrics()) first in routes()?)")
		}
		counts := map[[3]string]uint64{}
		for _, m := range mf.GetMetric() {
			l := opsLabels(m)
			if strings.Contains(l["route"], "no-such-route") {
				t.Fatalf("a raw path became a label: %v", l)
			}
			counts[[3]string{l["route"], l["method"], l["status_class"]}] = m.GetHistogram().GetSampleCount()
		}
		for k, min := range map[[3]string]uint64{
			{"/health", "GET", "2xx"}:      2,
			{"/ready", "GET", "2xx"}:       1,
			{unmatchedRoute, "GET", "4xx"}: 1,
		} {
			if counts[k] < min {
				t.Fatalf("count of %v = %d, want ≥ %d (all: %v)", k, counts[k], min, counts)
			}
		}
		if v := opsValue(t, mfs, "instainstru_http_requests_in_flight", nil); v != 1 {
			t.Fatalf("in flight during the scrape = %v, want 1 (the scrape itself)", v)
		}
	})

	t.Run("postgres pool gauges describe the real pool", func(t *testing.T) {
		if v, want := opsValue(t, mfs, "instainstru_pg_pool_max_conns", nil), float64(storetest.Pool(db).Config().MaxConns); v != want {
			t.Fatalf("max conns %v, want %v", v, want)
		}
		if v := opsValue(t, mfs, "instainstru_pg_pool_total_conns", nil); v < 1 {
			t.Fatalf("total conns %v, want ≥ 1 after /ready pinged", v)
		}
		acquired := opsValue(t, mfs, "instainstru_pg_pool_acquired_conns", nil)
		idle := opsValue(t, mfs, "instainstru_pg_pool_idle_conns", nil)
		if acquired < 0 || idle < 0 || acquired+idle > opsValue(t, mfs, "instainstru_pg_pool_total_conns", nil) {
			t.Fatalf("acquired %v + idle %v exceed total", acquired, idle)
		}
		if v := opsValue(t, mfs, "instainstru_pg_pool_acquire_wait_seconds_total", nil); v < 0 {
			t.Fatalf("acquire wait %v, want ≥ 0", v)
		}
	})

	t.Run("redis pool gauges describe the real pool", func(t *testing.T) {
		if v := opsValue(t, mfs, "instainstru_redis_pool_total_conns", nil); v < 1 {
			t.Fatalf("redis total conns %v, want ≥ 1 after /ready pinged", v)
		}
		if v := opsValue(t, mfs, "instainstru_redis_pool_idle_conns", nil); v < 0 {
			t.Fatalf("redis idle conns %v", v)
		}
		if v := opsValue(t, mfs, "instainstru_redis_pool_timeouts_total", nil); v != 0 {
			t.Fatalf("redis pool timeouts %v, want 0 on a healthy Redis", v)
		}
	})

	t.Run("readiness is current at every scrape", func(t *testing.T) {
		for _, dep := range []string{"postgres", "redis"} {
			if v := opsValue(t, mfs, "instainstru_dependency_up", map[string]string{"dependency": dep}); v != 1 {
				t.Fatalf("dependency_up{%s} = %v, want 1", dep, v)
			}
		}
	})

	t.Run("Go runtime and process collectors are registered", func(t *testing.T) {
		if v := opsValue(t, mfs, "go_goroutines", nil); v < 1 {
			t.Fatalf("go_goroutines %v", v)
		}
		if v := opsValue(t, mfs, "process_resident_memory_bytes", nil); v <= 0 {
			t.Fatalf("process_resident_memory_bytes %v", v)
		}
	})

	t.Run("instainstru series follow Prometheus naming conventions", func(t *testing.T) {
		problems, err := promlint.New(bytes.NewReader(body)).Lint()
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		for _, p := range problems {
			if strings.HasPrefix(p.Metric, "instainstru_") {
				ours = append(ours, fmt.Sprintf("%s: %s", p.Metric, p.Text))
			}
		}
		if len(ours) > 0 {
			t.Fatalf("promlint: %s", strings.Join(ours, "; "))
		}
	})
}

// opsJSON sends a JSON request with an optional bearer token, checks the
// status and decodes the reply into out (when not nil).
func opsJSON(t *testing.T, method, url, token string, body any, want int, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := nethttp.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
}

// opsSum adds up every series of a counter or gauge family.
func opsSum(mfs map[string]*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, m := range mfs[name].GetMetric() {
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

// opsHistogram returns count and sum of the histogram series of name whose
// labels include want, summed over matching series.
func opsHistogram(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (count uint64, sum float64) {
	mf, ok := mfs[name]
	if !ok {
		return 0, 0
	}
next:
	for _, m := range mf.GetMetric() {
		l := opsLabels(m)
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		count += m.GetHistogram().GetSampleCount()
		sum += m.GetHistogram().GetSampleSum()
	}
	return count, sum
}

// TestScrapeAfterABookingAndAWebSocketDeliveryShowsBusinessAndRealtimeSeries
// books on node A while a watcher and the instructor listen on node B, then
// scrapes both nodes the way Prometheus does.
func TestScrapeAfterABookingAndAWebSocketDeliveryShowsBusinessAndRealtimeSeries(t *testing.T) {
	t.Parallel()
	const key = "two-node-scrape-key"
	db := storetest.NewDB(t)
	url, prefix := storetest.SharedRedis(t)
	withKey := func(c *NodeConfig) { c.HTTP.MonitoringKey = key }
	a := startNode(t, db, url, prefix, "node-a", withKey)
	b := startNode(t, db, url, prefix, "node-b", withKey)

	instTok, instID := a.register(market.RoleInstructor)
	studTok, _ := a.register(market.RoleStudent)
	slug := "svc-" + storetest.RandomSuffix()
	var offer string
	if err := storetest.Pool(db).QueryRow(context.Background(), `
		WITH c AS (INSERT INTO categories (slug, name) VALUES ($1, $1) RETURNING id),
		     s AS (INSERT INTO services (category_id, slug, name) SELECT c.id, $1, $1 FROM c RETURNING id)
		INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		SELECT $2, s.id, 6000, '{30,60}' FROM s RETURNING id`, slug, instID).Scan(&offer); err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation(market.DefaultTimezone)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Now().In(ny).AddDate(0, 0, 10).Format(time.DateOnly)
	opsJSON(t, "POST", a.base+"/api/v1/instructors/me/availability", instTok,
		map[string]string{"date": date, "start": "09:00", "end": "12:00"}, 201, nil)

	topic := market.AvailabilityTopic(instID)
	watcher := dialWS(t, b.ws, nil)
	watcher.expect("welcome")
	watcher.subscribe(topic, -1)
	instructor := dialWS(t, b.ws, bearer(instTok))
	instructor.expect("welcome")
	instructor.send(map[string]any{"type": "ping"}) // the private topic is joined before the pong
	instructor.expect("pong")

	booking := map[string]any{"instructor_id": instID, "instructor_service_id": offer,
		"date": date, "start_time": "10:00", "duration_minutes": 60}
	opsJSON(t, "POST", a.base+"/api/v1/bookings", studTok, booking, 201, nil)
	opsJSON(t, "POST", a.base+"/api/v1/bookings", studTok, booking, 409, nil)
	watcher.events(topic, 1, 5*time.Second)
	instructor.events(market.UserTopic(instID), 1, 5*time.Second)

	mA, _ := opsScrape(t, a.base, key)
	mB, _ := opsScrape(t, b.base, key)

	t.Run("bookings are counted by result on the node that took them", func(t *testing.T) {
		for result, want := range map[string]float64{"created": 1, "conflict": 1} {
			if v := opsValue(t, mA, "instainstru_bookings_total", map[string]string{"result": result}); v != want {
				t.Errorf("bookings_total{result=%q} = %v, want %v", result, v, want)
			}
		}
		if v := opsValue(t, mA, "instainstru_availability_changes_total", nil); v < 1 {
			t.Errorf("availability changes %v, want ≥ 1 after adding a window", v)
		}
		// Business counters are exported from the start: node B's store
		// committed nothing.
		if v := opsValue(t, mB, "instainstru_availability_changes_total", nil); v != 0 {
			t.Errorf("availability changes on node B %v, want 0", v)
		}
		for class, want := range map[string]uint64{"2xx": 1, "4xx": 1} {
			n, _ := opsHistogram(mA, "instainstru_http_request_duration_seconds",
				map[string]string{"route": "/api/v1/bookings", "method": "POST", "status_class": class})
			if n != want {
				t.Errorf("POST /api/v1/bookings %s count = %d, want %d", class, n, want)
			}
		}
	})

	t.Run("the publishing node records broker latency and a drained outbox", func(t *testing.T) {
		if n, sum := opsHistogram(mA, "instainstru_broker_publish_duration_seconds", nil); n < 1 || sum <= 0 || sum/float64(n) > 1 {
			t.Errorf("broker publish: %d samples, mean %vs; want ≥ 1 sample under 1s", n, sum/float64(n))
		}
		if v := opsValue(t, mA, "instainstru_outbox_lag_seconds", nil); v < 0 || v > 5 {
			t.Errorf("outbox lag %vs, want 0..5s", v)
		}
	})

	t.Run("the delivering node records sockets, subscriptions and commit-to-socket latency", func(t *testing.T) {
		n, sum := opsHistogram(mB, "instainstru_delivery_latency_seconds", nil)
		t.Logf("node B: %d deliveries, mean commit→socket %.2f ms", n, 1000*sum/float64(n))
		if n < 2 || sum <= 0 || sum/float64(n) > 1 {
			t.Errorf("delivery latency: %d samples, mean %vs; want ≥ 2 (watcher + instructor) under 1s", n, sum/float64(n))
		}
		for auth, want := range map[string]float64{"anonymous": 1, "token": 1} {
			if v := opsValue(t, mB, "instainstru_ws_connections", map[string]string{"auth": auth}); v != want {
				t.Errorf("ws_connections{auth=%q} = %v, want %v", auth, v, want)
			}
		}
		if v := opsSum(mB, "instainstru_ws_connects_total"); v < 2 {
			t.Errorf("ws connects %v, want ≥ 2", v)
		}
		if v := opsValue(t, mB, "instainstru_ws_subscriptions", nil); v < 2 {
			t.Errorf("ws subscriptions %v, want ≥ 2 (availability topic + the instructor's own)", v)
		}
		if v := opsValue(t, mB, "instainstru_ws_messages_sent_total", nil); v < 5 {
			t.Errorf("frames sent %v, want ≥ 5 (2 welcomes, ack, pong, 2 events)", v)
		}
		if v := opsValue(t, mB, "instainstru_ws_messages_received_total", nil); v < 2 {
			t.Errorf("frames received %v, want ≥ 2 (subscribe, ping)", v)
		}
	})
}
