package redis

import (
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// poolCollector exports the Redis client's pool stats at scrape time,
// so the numbers are current and nothing polls between scrapes.
type poolCollector struct {
	client   goredis.UniversalClient
	total    *prometheus.Desc
	idle     *prometheus.Desc
	timeouts *prometheus.Desc
}

// NewPoolCollector returns a collector of c's connection pool: open and
// idle connections, and how often a caller gave up waiting for a connection
// (a rising rate means the pool is too small or Redis is stalling).
func NewPoolCollector(c goredis.UniversalClient) prometheus.Collector {
	return &poolCollector{
		client: c,
		total: prometheus.NewDesc("instainstru_redis_pool_total_conns",
			"Redis connections open in the command pool.", nil, nil),
		idle: prometheus.NewDesc("instainstru_redis_pool_idle_conns",
			"Redis connections idle in the command pool.", nil, nil),
		timeouts: prometheus.NewDesc("instainstru_redis_pool_timeouts_total",
			"Times a caller timed out waiting for a Redis connection from the pool.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.idle
	ch <- c.timeouts
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.client.PoolStats()
	if st == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns))
	ch <- prometheus.MustNewConstMetric(c.timeouts, prometheus.CounterValue, float64(st.Timeouts))
}
