package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/jobs"
	"instainstru/store"
)

// Upkeep task names (river_job.args->>'task').
const (
	TaskLessonCompletion = "lesson_completion"
	TaskRetentionPrefix  = "retention." // + a store.Retention* kind
)

// upkeep returns the cluster's periodic jobs: lesson completion and one
// job per enabled retention kind. River runs each once per period across
// the cluster, on a node with workers (jobs.Periodic). db is the workers'
// store view: it publishes what its writes commit, so a booking.completed
// reaches watchers at once, not after the relay's delay.
func upkeep(cfg Config, db *store.DB, reg prometheus.Registerer, log *slog.Logger) []jobs.Periodic {
	completed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "instainstru_lessons_completed_total",
		Help: "Confirmed lessons marked completed after they ended (the lesson_completion job).",
	})
	reg.MustRegister(completed)
	rc := cfg.Retention
	if cfg.EventRetention > 0 {
		rc.Events, rc.IdempotencyKeys = cfg.EventRetention, cfg.EventRetention
	}
	retention := store.NewRetention(db, rc, reg, log)

	var out []jobs.Periodic
	if cfg.LessonCompletion >= 0 {
		every := cfg.LessonCompletion
		if every == 0 {
			every = DefaultLessonCompletionInterval
		}
		lc := &LessonCompleter{Store: db, Log: log, Completed: completed}
		out = append(out, jobs.Periodic{Task: TaskLessonCompletion, Every: every, Run: func(ctx context.Context) error {
			_, err := lc.RunOnce(ctx)
			return err
		}})
	}
	for _, kind := range retention.Kinds() {
		out = append(out, jobs.Periodic{Task: TaskRetentionPrefix + kind, Every: retention.Interval(), Run: func(ctx context.Context) error {
			_, err := retention.RunKind(ctx, kind, time.Now())
			return err
		}})
	}
	return out
}
