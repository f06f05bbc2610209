package realtime

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
)

// Metrics are the broker and outbox series. A nil *Metrics records nothing.
type Metrics struct {
	publish     prometheus.Histogram
	outboxLag   prometheus.Gauge
	republished prometheus.Counter
	// availabilityChanges counts committed availability.changed events
	// as the fast path receives them (once each; the relay does not count).
	availabilityChanges prometheus.Counter
	// relayActive is 1 on the node whose relay holds the advisory lock:
	// summed over nodes it must be 1 (RelayInactive alerts on 0).
	relayActive prometheus.Gauge
}

// NewMetrics registers the realtime series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "instainstru_broker_publish_duration_seconds",
			Help:    "Time to publish one committed event to the broker.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5},
		}),
		outboxLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "instainstru_outbox_lag_seconds",
			Help: "Age of the oldest committed event not yet published (0 when none).",
		}),
		republished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_outbox_republished_total",
			Help: "Events the outbox relay published because the fast path had not.",
		}),
		availabilityChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_availability_changes_total", Help: "Committed availability changes.",
		}),
		relayActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "instainstru_outbox_relay_active",
			Help: "1 while this node's outbox relay holds the relay lock (exactly one node should), else 0.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.publish, m.outboxLag, m.republished, m.availabilityChanges, m.relayActive)
	}
	return m
}

// ObservePublish records how long one publish to the broker took (brokers
// outside this package, such as package redis's, call it).
func (m *Metrics) ObservePublish(d time.Duration) {
	if m != nil {
		m.publish.Observe(d.Seconds())
	}
}

func (m *Metrics) setLag(d time.Duration) {
	if m != nil {
		m.outboxLag.Set(d.Seconds())
	}
}

func (m *Metrics) countCommitted(evs []market.Event) {
	if m == nil {
		return
	}
	for _, e := range evs {
		if e.Type == market.EventAvailabilityChanged {
			m.availabilityChanges.Inc()
		}
	}
}

func (m *Metrics) setRelayActive(on bool) {
	if m != nil {
		v := 0.0
		if on {
			v = 1
		}
		m.relayActive.Set(v)
	}
}

func (m *Metrics) addRepublished(n int) {
	if m != nil {
		m.republished.Add(float64(n))
	}
}
