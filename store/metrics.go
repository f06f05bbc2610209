package store

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports pgxpool.Stat at scrape time. Reading the stat when
// Prometheus asks (rather than copying it into gauges on a timer) means the
// numbers are never stale and nothing runs between scrapes.
type poolCollector struct {
	pool     *pgxpool.Pool
	acquired *prometheus.Desc
	idle     *prometheus.Desc
	total    *prometheus.Desc
	max      *prometheus.Desc
	wait     *prometheus.Desc
}

// newPoolCollector returns a collector of pool's connection counts and of
// the time callers spent waiting for a connection. Register it once per
// pool; a second registration of the same names is rejected by the registry.
func newPoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	return &poolCollector{
		pool: pool,
		acquired: prometheus.NewDesc("instainstru_pg_pool_acquired_conns",
			"Postgres connections currently checked out of the pool.", nil, nil),
		idle: prometheus.NewDesc("instainstru_pg_pool_idle_conns",
			"Postgres connections idle in the pool.", nil, nil),
		total: prometheus.NewDesc("instainstru_pg_pool_total_conns",
			"Postgres connections open (acquired + idle + being constructed).", nil, nil),
		max: prometheus.NewDesc("instainstru_pg_pool_max_conns",
			"Largest number of Postgres connections the pool may open.", nil, nil),
		wait: prometheus.NewDesc("instainstru_pg_pool_acquire_wait_seconds_total",
			"Time callers waited for a Postgres connection because the pool had none idle; "+
				"a rising rate means the pool is exhausted.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.acquired
	ch <- c.idle
	ch <- c.total
	ch <- c.max
	ch <- c.wait
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.wait, prometheus.CounterValue, st.EmptyAcquireWaitTime().Seconds())
}
