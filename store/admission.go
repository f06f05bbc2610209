package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
)

// Admission control on the write path. Past capacity, queueing every write
// until it times out helps nobody: each waiter holds a request (and later a
// connection) and the ones behind it wait longer still. A schedule write
// therefore waits in two bounded queues — this node's turn for the
// instructor, then a Postgres connection — and is refused (503 with
// Retry-After, ErrOverloaded) when a queue is full, when the expected wait
// already exceeds its budget, or when the budget runs out while it waits.
// A refused write has changed nothing, so the client may simply retry.

// AdmissionConfig bounds how much a write may queue before it starts.
type AdmissionConfig struct {
	// TurnQueue is how many writers of one instructor's schedule may wait
	// behind the one holding the turn on this node [256]. It bounds memory
	// and goroutines; the wait budget is what sheds first, since a turn
	// that ends in a quick 409 is far shorter than one that books.
	TurnQueue int
	// PoolQueue is how many writers may wait for a Postgres connection when
	// the pool has none idle [8 × the pool's size].
	PoolQueue int
	// MaxWait is the longest a write waits for its turn and a connection
	// together [750ms], so that queueing plus the write itself stay within
	// about a second. An earlier context deadline shortens it.
	MaxWait time.Duration
}

// Shed reasons, the `reason` label of instainstru_write_shed_total.
const (
	shedTurnQueue = iota // too many writers already wait for the instructor
	shedTurnWait         // the turn would not (or did not) come within the budget
	shedPoolQueue        // too many writers already wait for a connection
	shedPoolWait         // no connection came within the budget
	shedReasons
)

var shedNames = [shedReasons]string{"turn_queue_full", "turn_wait_budget", "pool_queue_full", "pool_wait_budget"}

// admission is the per-DB state: its limits, how long a turn is held on
// average (to predict a wait), how many wait for a connection, and what was
// refused.
type admission struct {
	mu          sync.Mutex
	cfg         AdmissionConfig
	holdNanos   atomic.Int64 // moving average of how long a turn is held
	poolWaiters atomic.Int64
	shed        [shedReasons]atomic.Uint64
}

// SetAdmission replaces the write path's limits (zero fields keep their
// defaults). Call it before serving; tests use small queues.
func (db *DB) SetAdmission(c AdmissionConfig) {
	db.admission.mu.Lock()
	defer db.admission.mu.Unlock()
	db.admission.cfg = c
}

func (db *DB) admissionConfig() AdmissionConfig {
	db.admission.mu.Lock()
	c := db.admission.cfg
	db.admission.mu.Unlock()
	if c.TurnQueue <= 0 {
		c.TurnQueue = 256
	}
	if c.PoolQueue <= 0 {
		c.PoolQueue = 256
		if db.pool != nil {
			c.PoolQueue = 8 * int(db.pool.Config().MaxConns)
		}
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 750 * time.Millisecond
	}
	return c
}

// refuse counts a shed write and returns its error.
func (a *admission) refuse(reason int, waited time.Duration) error {
	a.shed[reason].Add(1)
	return fmt.Errorf("%w: %w (%s after %v)", &market.Error{Code: market.EUNAVAILABLE,
		Message: "too busy to take this change now; retry shortly",
		Details: map[string]any{"reason": shedNames[reason]}}, market.ErrOverloaded, shedNames[reason], waited.Round(time.Millisecond))
}

// observeHold folds one turn's hold time into the moving average (1/8
// weight: recent enough to follow a burst, smooth enough not to flap).
func (a *admission) observeHold(d time.Duration) {
	for {
		old := a.holdNanos.Load()
		next := int64(d)
		if old != 0 {
			next = old - old/8 + int64(d)/8
		}
		if a.holdNanos.CompareAndSwap(old, next) {
			return
		}
	}
}

// admittedScheduleTx runs fn in a transaction once this node's turn for
// instructorID and a pool connection are both had within the budget.
func (db *DB) admittedScheduleTx(ctx context.Context, instructorID string, fn func(tx pgx.Tx) error) error {
	cfg := db.admissionConfig()
	start := time.Now()
	deadline := start.Add(cfg.MaxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	a := &db.admission
	release, err := db.schedules.admit(ctx, instructorID, turnLimits{
		queue: cfg.TurnQueue, deadline: deadline, hold: time.Duration(a.holdNanos.Load()),
	})
	if err != nil {
		var r shedReason
		if errors.As(err, &r) {
			return a.refuse(int(r), time.Since(start))
		}
		return fmt.Errorf("wait for the instructor's schedule: %w", err)
	}
	held := time.Now()
	defer func() { release(); a.observeHold(time.Since(held)) }()

	if db.pool.Stat().IdleConns() == 0 && a.poolWaiters.Load() >= int64(cfg.PoolQueue) {
		return a.refuse(shedPoolQueue, time.Since(start))
	}
	a.poolWaiters.Add(1)
	actx, cancel := context.WithDeadline(ctx, deadline)
	conn, err := db.pool.Acquire(actx)
	cancel()
	a.poolWaiters.Add(-1)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return a.refuse(shedPoolWait, time.Since(start))
		}
		return fmt.Errorf("acquire: %w", translate(err))
	}
	defer conn.Release()
	return db.inTx(ctx, lazyBegin{conn}, fn)
}

// shedReason is why scheduleQueue.admit refused a writer.
type shedReason int

func (r shedReason) Error() string { return shedNames[r] }

// turnLimits bound one wait for an instructor's turn.
type turnLimits struct {
	queue    int           // writers that may wait behind the holder
	deadline time.Time     // give up (shed) when the turn has not come by then
	hold     time.Duration // average time one writer holds the turn (0 = unknown)
}

// admit is acquire with admission: it refuses at once when lim.queue
// writers already wait or when the writers ahead would surely still hold
// the turn at the deadline; and it refuses when the deadline passes while
// waiting.
func (q *scheduleQueue) admit(ctx context.Context, key string, lim turnLimits) (release func(), err error) {
	q.mu.Lock()
	if s := q.slots[key]; s != nil {
		ahead := s.waiters // the holder and those already waiting
		if ahead-1 >= lim.queue {
			q.mu.Unlock()
			return nil, shedReason(shedTurnQueue)
		}
		// A turn that ends in a quick 409 is an order of magnitude shorter
		// than one that books, so only a quarter of the average counts:
		// refuse at once only when the wait is hopeless, not merely likely.
		if time.Now().Add(time.Duration(ahead) * lim.hold / 4).After(lim.deadline) {
			q.mu.Unlock()
			return nil, shedReason(shedTurnWait)
		}
	}
	q.mu.Unlock()
	wctx, cancel := context.WithDeadline(ctx, lim.deadline)
	defer cancel()
	release, err = q.acquire(wctx, key)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, shedReason(shedTurnWait)
	}
	return release, err
}

// admissionCollector exports the shed counts at scrape time.
type admissionCollector struct {
	db   *DB
	shed *prometheus.Desc
}

// NewAdmissionCollector returns a collector of the writes db's admission
// control refused, by reason. A rising rate means the node is past its
// write capacity (or one instructor is hot) and clients are being asked to
// retry.
func NewAdmissionCollector(db *DB) prometheus.Collector {
	return &admissionCollector{db: db, shed: prometheus.NewDesc("instainstru_write_shed_total",
		"Writes refused with 503 + Retry-After because they could not start within their wait budget.",
		[]string{"reason"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *admissionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.shed }

// Collect implements prometheus.Collector.
func (c *admissionCollector) Collect(ch chan<- prometheus.Metric) {
	for i, name := range shedNames {
		ch <- prometheus.MustNewConstMetric(c.shed, prometheus.CounterValue, float64(c.db.admission.shed[i].Load()), name)
	}
}
