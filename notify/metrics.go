package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/jobs"
)

// Metrics are the notification path's Prometheus series.
type Metrics struct {
	created     *prometheus.CounterVec // notifications committed, by kind
	emails      *prometheus.CounterVec // email attempts, by result
	reminders   *prometheus.CounterVec // reminder jobs, by result
	reminderLag prometheus.Histogram
}

// QueueReader reads the job queue's depth (store.DB does).
type QueueReader interface {
	JobQueueStats(ctx context.Context) (jobs.Stats, error)
}

// NewMetrics registers the series on reg; the queue gauges are read from
// queue at scrape time (none when queue is nil).
func NewMetrics(reg prometheus.Registerer, queue QueueReader) *Metrics {
	m := &Metrics{
		created: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_notifications_created_total",
			Help: "Notifications committed on this node, by kind.",
		}, []string{"kind"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_emails_total",
			Help: "Email attempts by result: sent, retried (failed, will retry), discarded (failed for good), duplicate_skipped.",
		}, []string{"result"}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "instainstru_reminders_total",
			Help: "Reminder jobs by result: sent, stale (lesson cancelled, moved or reminders turned off).",
		}, []string{"result"}),
		reminderLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "instainstru_reminder_lag_seconds",
			Help:    "Delay between a reminder's scheduled time and its first run.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900},
		}),
	}
	for _, k := range []string{"booking.created", "booking.confirmed", "booking.cancelled", "booking.rescheduled", "lesson.reminder"} {
		m.created.WithLabelValues(k)
	}
	for _, r := range []string{"sent", "retried", "discarded", "duplicate_skipped"} {
		m.emails.WithLabelValues(r)
	}
	for _, r := range []string{"sent", "stale"} {
		m.reminders.WithLabelValues(r)
	}
	reg.MustRegister(m.created, m.emails, m.reminders, m.reminderLag, &queueCollector{queue: queue})
	return m
}

var (
	pendingDesc = prometheus.NewDesc("instainstru_jobs_pending",
		"Background jobs due and not yet done (available or waiting to retry), by kind.", []string{"kind"}, nil)
	oldestDesc = prometheus.NewDesc("instainstru_jobs_oldest_pending_seconds",
		"How long the oldest due job has waited, by kind (0 when none).", []string{"kind"}, nil)
)

// queueCollector reads the queue's depth when scraped.
type queueCollector struct{ queue QueueReader }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pendingDesc; ch <- oldestDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if c.queue == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.queue.JobQueueStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	for _, kind := range []string{jobs.Email{}.Kind(), jobs.Reminder{}.Kind()} {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(st.PendingByKind[kind]), kind)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestByKind[kind].Seconds(), kind)
	}
}
