package report

import (
	"instainstru/loadtest/measure"
	"math"
	"sort"
)

// ServerStats is what one node's /metrics says about the run: the server's
// own view, to set beside the generator's (its delivery latency histogram
// stops at the socket write, so the difference is network + generator).
// Counters are deltas over load and drain; gauges are read at the end.
// Absent when /metrics is not readable (no -monitoring-key).
type ServerStats struct {
	URL                 string  `json:"url"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	PgPoolMaxConns      float64 `json:"pg_pool_max_conns"`
	PgPoolWaitSeconds   float64 `json:"pg_pool_acquire_wait_seconds"`
	OutboxLagSeconds    float64 `json:"outbox_lag_seconds_at_end"`
	OutboxRepublished   float64 `json:"outbox_republished"`
	SendQueueDrops      float64 `json:"ws_send_queue_drops"`
	SlowConsumerCloses  float64 `json:"ws_slow_consumer_closes"`
	ResumeResets        float64 `json:"resume_resets"`
	RedisPoolTimeouts   float64 `json:"redis_pool_timeouts"`
	Deliveries          float64 `json:"deliveries"`
	EmailsSent          float64 `json:"emails_sent"`                    // by this node's job workers, over the run
	JobsOldestSeconds   float64 `json:"jobs_oldest_due_seconds_at_end"` // the oldest due job of any kind, after the drain
	DeliveryP50Seconds  float64 `json:"delivery_latency_p50_seconds"`
	DeliveryP99Seconds  float64 `json:"delivery_latency_p99_seconds"`
	DeliveryMeanSeconds float64 `json:"delivery_latency_mean_seconds"`
	// DeliveryBeyond is set when a quantile lies past the histogram's last
	// finite bucket: the figure is then that bound, a lower limit.
	DeliveryP50Beyond bool `json:"delivery_latency_p50_beyond_last_bucket,omitempty"`
	DeliveryP99Beyond bool `json:"delivery_latency_p99_beyond_last_bucket,omitempty"`
}

// ServerSnap is one scrape of one node (nil body: not readable).
type ServerSnap struct{ Body []byte }

// serverStats turns two scrapes per node into ServerStats.
func ServerStatsFrom(urls []string, before, after []ServerSnap) []ServerStats {
	var out []ServerStats
	for i, u := range urls {
		if before[i].Body == nil || after[i].Body == nil {
			continue
		}
		b, a := before[i].Body, after[i].Body
		delta := func(name string) float64 {
			x, _ := measure.SumMetric(a, name)
			y, _ := measure.SumMetric(b, name)
			return x - y
		}
		gauge := func(name string) float64 { v, _ := measure.SumMetric(a, name); return v }
		s := ServerStats{
			URL: u, CPUSeconds: delta("process_cpu_seconds_total"),
			PgPoolMaxConns:     gauge("instainstru_pg_pool_max_conns"),
			PgPoolWaitSeconds:  delta("instainstru_pg_pool_acquire_wait_seconds_total"),
			OutboxLagSeconds:   gauge("instainstru_outbox_lag_seconds"),
			OutboxRepublished:  delta("instainstru_outbox_republished_total"),
			SendQueueDrops:     delta("instainstru_ws_send_queue_drops_total"),
			SlowConsumerCloses: delta("instainstru_ws_slow_consumer_closes_total"),
			ResumeResets:       delta("instainstru_resume_resets_total"),
			RedisPoolTimeouts:  delta("instainstru_redis_pool_timeouts_total"),
			Deliveries:         delta("instainstru_delivery_latency_seconds_count"),
			EmailsSent:         delta(`instainstru_emails_total{result="sent"}`),
			JobsOldestSeconds:  measure.MaxMetric(a, "instainstru_jobs_oldest_pending_seconds"),
		}
		if s.Deliveries > 0 {
			s.DeliveryMeanSeconds = delta("instainstru_delivery_latency_seconds_sum") / s.Deliveries
			bk := measure.PromBuckets(a, "instainstru_delivery_latency_seconds")
			for le, v := range measure.PromBuckets(b, "instainstru_delivery_latency_seconds") {
				bk[le] -= v
			}
			s.DeliveryP50Seconds, s.DeliveryP50Beyond = bucketQuantile(bk, 0.5)
			s.DeliveryP99Seconds, s.DeliveryP99Beyond = bucketQuantile(bk, 0.99)
		}
		out = append(out, s)
	}
	return out
}

// bucketQuantile estimates a quantile from cumulative buckets the way
// PromQL's histogram_quantile does (linear within the bucket). beyond says
// the quantile is past the last finite bound, which is then returned.
func bucketQuantile(bk map[float64]float64, q float64) (v float64, beyond bool) {
	les := make([]float64, 0, len(bk))
	for le := range bk {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 {
		return 0, false
	}
	total := bk[les[len(les)-1]]
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	prevLE, prevCount := 0.0, 0.0
	for _, le := range les {
		c := bk[le]
		if c >= rank {
			if math.IsInf(le, 1) {
				return prevLE, true
			}
			if c == prevCount {
				return le, false
			}
			return prevLE + (le-prevLE)*(rank-prevCount)/(c-prevCount), false
		}
		prevLE, prevCount = le, c
	}
	return prevLE, true
}
