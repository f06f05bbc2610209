package netguard

import (
	"net"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the listener's series. NewMetrics registers them; Instrument
// ties them to a Listener's config before Wrap.
type Metrics struct {
	shed       *prometheus.CounterVec
	acceptErrs prometheus.Counter
	max        prometheus.Gauge
	open       *openGauge
}

// openGauge reads the open connections of the listener set by Wrap.
type openGauge struct{ l atomic.Pointer[Listener] }

// NewMetrics registers instainstru_connections_shed_total{reason},
// instainstru_accept_errors_total, instainstru_connections_open and
// instainstru_connections_max on reg (nil: unregistered). Every reason
// starts at 0, so rate() sees the first shed.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_connections_shed_total",
			Help: "Connections answered 503 and closed at accept: reason max_connections (MAX_CONNECTIONS reached) or fd_exhausted (EMFILE).",
		}, []string{"reason"}),
		acceptErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "instainstru_accept_errors_total",
			Help: "Accept errors waited out with a back-off (EMFILE, ENFILE, ...).",
		}),
		max: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "instainstru_connections_max",
			Help: "MAX_CONNECTIONS in force: connections past it are answered 503.",
		}),
		open: &openGauge{},
	}
	for _, r := range []string{"max_connections", "fd_exhausted"} {
		m.shed.WithLabelValues(r)
	}
	if reg != nil {
		open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "instainstru_connections_open",
			Help: "TCP connections accepted on the public port and not yet closed (HTTP and WebSocket).",
		}, func() float64 {
			if l := m.open.l.Load(); l != nil {
				return float64(l.Open())
			}
			return 0
		})
		reg.MustRegister(m.shed, m.acceptErrs, m.max, open)
	}
	return m
}

// Wrap is the package's Wrap with cfg's hooks recording into m.
func (m *Metrics) Wrap(ln net.Listener, cfg Config) *Listener {
	cfg.OnShed = func(reason string) { m.shed.WithLabelValues(reason).Inc() }
	cfg.OnAcceptError = func(error) { m.acceptErrs.Inc() }
	l := Wrap(ln, cfg)
	m.max.Set(float64(l.MaxConns()))
	m.open.l.Store(l)
	return l
}
