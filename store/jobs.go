package store

import (
	"context"

	"instainstru/jobs"
)

// NewJobRunner returns River's workers on this database's pool, so job
// handlers (notify) get a runner without holding a pool themselves: the
// pool stays inside store, and jobs stays the one package that knows River.
// Through a pooler in transaction mode the runner polls (no LISTEN).
func (db *DB) NewJobRunner(h jobs.Handlers, cfg jobs.RunnerConfig) (*jobs.Runner, error) {
	if db.opts.Pooling == PoolingTransaction {
		cfg.PollOnly = true
	}
	return jobs.NewRunner(db.pool, h, cfg)
}

// JobQueueStats reads the background queue's depth (for the queue gauges).
func (db *DB) JobQueueStats(ctx context.Context) (jobs.Stats, error) {
	return jobs.QueueStats(ctx, db.pool)
}
