package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Attempt describes the run of a job a handler is in.
type Attempt struct {
	N           int       // 1 for the first try
	Max         int       // the job is discarded after the Max-th failure
	ScheduledAt time.Time // when the job was due (for lag)
}

// Last reports whether a failure now discards the job.
func (a Attempt) Last() bool { return a.N >= a.Max }

// Handlers do the work of each job kind. A handler that returns an error is
// retried with backoff until its job's attempts run out.
type Handlers struct {
	Email    func(ctx context.Context, j Email, a Attempt) error
	Reminder func(ctx context.Context, j Reminder, a Attempt) error
	// MessageUnread may be nil only where no such job is ever inserted
	// (tests of the runner): a worker of the reminders queue without it
	// would fail the jobs it fetches. notify always sets it.
	MessageUnread func(ctx context.Context, j MessageUnread, a Attempt) error
}

// RunnerConfig tunes the workers. Zero values are River's defaults.
type RunnerConfig struct {
	Workers int // per queue, default 10
	// Queues to work, default all. A node without SMTP leaves QueueEmail
	// out: its email jobs wait for a node that can send.
	Queues []string
	// Backoff gives the delay before retry n (1-based); nil = River's
	// default (n⁴ seconds, with jitter).
	Backoff func(attempt int) time.Duration
	// RescueAfter is how long a job may stay running (its node died) before
	// another worker takes it again; default 1 h. Email and reminder jobs
	// take seconds, so the hub sets minutes.
	RescueAfter time.Duration
	// PollInterval is how often workers look for due jobs besides
	// Postgres notifications of new ones; default 1 s.
	PollInterval time.Duration
	// PollOnly fetches by polling alone, without LISTEN for new jobs and
	// leadership changes: what a pooler in transaction mode allows
	// (DB_POOLING=transaction), at up to PollInterval's latency.
	PollOnly bool
	Logger   *slog.Logger
	// Periodic is the cluster's upkeep (see Periodic), worked on its own
	// queue. Every node with workers must declare the same tasks.
	Periodic []Periodic
}

// Runner runs the workers of one node.
type Runner struct {
	client *river.Client[pgx.Tx]
}

// backoff adapts RunnerConfig.Backoff to River.
type backoff func(int) time.Duration

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b(job.Attempt))
}

// NewRunner builds the workers over pool; Start starts them.
func NewRunner(pool *pgxpool.Pool, h Handlers, cfg RunnerConfig) (*Runner, error) {
	if h.Email == nil || h.Reminder == nil {
		return nil, errors.New("jobs: every handler is required")
	}
	n := cfg.Workers
	if n <= 0 {
		n = 10
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[Email]) error {
		return h.Email(ctx, j.Args, attemptOf(j.JobRow))
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[Reminder]) error {
		return h.Reminder(ctx, j.Args, attemptOf(j.JobRow))
	}))
	if h.MessageUnread != nil {
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[MessageUnread]) error {
			return h.MessageUnread(ctx, j.Args, attemptOf(j.JobRow))
		}))
	}
	queues := cfg.Queues
	if queues == nil {
		queues = []string{QueueEmail, QueueReminders}
	}
	qc := map[string]river.QueueConfig{}
	for _, q := range queues {
		qc[q] = river.QueueConfig{MaxWorkers: n}
	}
	rescue := cfg.RescueAfter
	if rescue <= 0 {
		rescue = time.Hour // River's default
	}
	periodic, err := periodicJobs(workers, cfg.Periodic, rescue/2)
	if err != nil {
		return nil, err
	}
	if len(periodic) > 0 {
		qc[QueuePeriodic] = river.QueueConfig{MaxWorkers: min(len(periodic), 4)}
	}
	rc := &river.Config{
		Queues:               qc,
		Workers:              workers,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		PollOnly:             cfg.PollOnly,
		JobTimeout:           time.Minute,
		Logger:               cfg.Logger,
		PeriodicJobs:         periodic,
	}
	if cfg.RescueAfter > 0 && cfg.RescueAfter <= rc.JobTimeout {
		rc.JobTimeout = cfg.RescueAfter / 2
	}
	if cfg.Backoff != nil {
		rc.RetryPolicy = backoff(cfg.Backoff)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Runner{client: c}, nil
}

func attemptOf(r *rivertype.JobRow) Attempt {
	return Attempt{N: r.Attempt, Max: r.MaxAttempts, ScheduledAt: r.ScheduledAt}
}

// Start starts fetching and working jobs until Stop.
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop stops fetching and waits for running jobs, until ctx ends; then it
// cancels them (they are retried elsewhere).
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return r.client.StopAndCancel(context.Background())
	}
	return err
}

// Kill stops the workers at once, as a crashed node would: running jobs are
// cancelled and left for River to retry (tests).
func (r *Runner) Kill() error { return r.client.StopAndCancel(context.Background()) }

// Stats is the state of the queue, for metrics.
type Stats struct {
	Pending       int           // available, scheduled now or earlier, or retryable
	OldestAge     time.Duration // how long the oldest due job has waited
	PendingByKind map[string]int
	OldestByKind  map[string]time.Duration
}

// QueueStats reads how many jobs are due and how late the oldest one is.
// Jobs scheduled in the future (reminders) are not late and not counted.
func QueueStats(ctx context.Context, pool *pgxpool.Pool) (Stats, error) {
	rows, err := pool.Query(ctx, `SELECT kind, count(*),
		COALESCE(EXTRACT(EPOCH FROM now() - min(scheduled_at)), 0)
		FROM river_job WHERE state IN ('available', 'retryable', 'scheduled') AND scheduled_at <= now()
		GROUP BY kind`)
	if err != nil {
		return Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	defer rows.Close()
	s := Stats{PendingByKind: map[string]int{}, OldestByKind: map[string]time.Duration{}}
	for rows.Next() {
		var kind string
		var n int
		var secs float64
		if err := rows.Scan(&kind, &n, &secs); err != nil {
			return Stats{}, fmt.Errorf("queue stats: %w", err)
		}
		age := time.Duration(math.Max(secs, 0) * float64(time.Second))
		s.Pending += n
		s.PendingByKind[kind] = n
		s.OldestByKind[kind] = age
		s.OldestAge = max(s.OldestAge, age)
	}
	return s, rows.Err()
}
