package hub

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the WebSocket and delivery series. A nil *Metrics records nothing.
type Metrics struct {
	connections   *prometheus.GaugeVec
	connects      *prometheus.CounterVec
	disconnects   *prometheus.CounterVec
	sent          prometheus.Counter
	received      prometheus.Counter
	drops         prometheus.Counter
	slowConsumers prometheus.Counter
	subscriptions prometheus.Gauge
	latency       prometheus.Histogram
	replays       prometheus.Counter
	resets        prometheus.Counter
	ephemerals    prometheus.Counter
}

// NewMetrics registers the hub's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "instainstru_ws_connections", Help: "Open WebSocket connections by how they authenticated.",
		}, []string{"auth"}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_ws_connects_total", Help: "Accepted WebSocket connections.",
		}, []string{"auth"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_ws_disconnects_total", Help: "Closed WebSocket connections by close code.",
		}, []string{"code"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_ws_messages_sent_total", Help: "Frames written to sockets.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_ws_messages_received_total", Help: "Frames read from clients.",
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_ws_send_queue_drops_total", Help: "Frames refused because a send queue was full.",
		}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_ws_slow_consumer_closes_total", Help: "Connections closed with 4008 because they could not keep up.",
		}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "instainstru_ws_subscriptions", Help: "Active topic subscriptions on this node.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "instainstru_delivery_latency_seconds",
			Help: "Commit of the change to the socket write of its event.",
			Buckets: []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5,
				5, 10},
		}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_resume_replays_total", Help: "Events replayed from history to resuming subscribers.",
		}),
		resets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_resume_resets_total", Help: "Resumes answered with reset (history no longer retained).",
		}),
		ephemerals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_ws_ephemeral_frames_total", Help: "Ephemeral frames (typing, presence; no seq) queued to connections.",
		}),
	}
	// Born at 0, so rate() sees the first of each (see http/metrics_init.go).
	for _, auth := range []string{"anonymous", "token", "ticket"} {
		m.connections.WithLabelValues(auth)
		m.connects.WithLabelValues(auth)
	}
	for _, code := range []int{1000, 1001, 1006, 1008, StatusTooBig, StatusServiceRestart, StatusTokenExpired, StatusSlowConsumer, StatusTooManyFrames} {
		m.disconnects.WithLabelValues(strconv.Itoa(code))
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.connects, m.disconnects, m.sent, m.received, m.drops,
			m.slowConsumers, m.subscriptions, m.latency, m.replays, m.resets, m.ephemerals)
	}
	return m
}

func (m *Metrics) connected(auth string) {
	if m != nil {
		m.connections.WithLabelValues(auth).Inc()
		m.connects.WithLabelValues(auth).Inc()
	}
}

func (m *Metrics) disconnected(auth string, code int) {
	if m != nil {
		m.connections.WithLabelValues(auth).Dec()
		m.disconnects.WithLabelValues(strconv.Itoa(code)).Inc()
	}
}

// delivered records frames written to a socket at now: every event frame
// (commit time set) is one delivery-latency observation.
func (m *Metrics) delivered(frames []frame, now time.Time) {
	if m == nil {
		return
	}
	m.sent.Add(float64(len(frames)))
	for _, f := range frames {
		if !f.ts.IsZero() {
			m.latency.Observe(now.Sub(f.ts).Seconds())
		}
	}
}

// count increments the counter pick selects, if m is not nil.
func (m *Metrics) count(pick func(*Metrics) prometheus.Counter) {
	if m != nil {
		pick(m).Inc()
	}
}

// countN adds n to the counter pick selects, if m is not nil.
func (m *Metrics) countN(pick func(*Metrics) prometheus.Counter, n int) {
	if m != nil && n > 0 {
		pick(m).Add(float64(n))
	}
}

func ephemerals(m *Metrics) prometheus.Counter    { return m.ephemerals }
func received(m *Metrics) prometheus.Counter      { return m.received }
func drops(m *Metrics) prometheus.Counter         { return m.drops }
func slowConsumers(m *Metrics) prometheus.Counter { return m.slowConsumers }
func replays(m *Metrics) prometheus.Counter       { return m.replays }
func resets(m *Metrics) prometheus.Counter        { return m.resets }

func (m *Metrics) addSubs(n int) {
	if m != nil {
		m.subscriptions.Add(float64(n))
	}
}
