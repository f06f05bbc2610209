// Package store is the Postgres side of the hub: the pool, transactions,
// repositories, and the translation of constraint violations into domain
// errors. Business rules that must hold under concurrency are written as SQL
// constraints (see migrations/) and checked here inside transactions.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"instainstru/jobs"
	"instainstru/market"
	"instainstru/migrations"
)

// DB is a handle on the database that repositories hang off: the pool and
// this node's write-path state, shared by every view of it, and the
// Publisher that the view's writes hand their committed events to.
type DB struct {
	*shared
	pub Publisher
}

type shared struct {
	pool *pgxpool.Pool
	opts Options // how it reaches Postgres (pooling.go)

	schedules scheduleQueue  // per-instructor turn for schedule writers on this node
	admission admission      // bounded, deadline-aware waits on the write path (admission.go)
	jobs      *jobs.Inserter // background jobs inserted in the transactions that cause them
}

// Publisher receives the events of each transaction right after it
// commits (the fast path). It must not block on a slow broker: the events
// are already durable in the outbox, and the relay republishes whatever the
// fast path did not send.
type Publisher interface {
	PublishCommitted(ctx context.Context, evs []market.Event)
}

// WithPublisher returns a view of db whose writes publish the events they
// commit to pub, after commit and from the one place that commits (inTx),
// so no caller can forget it. The view shares db's pool and admission
// state; db itself keeps its publisher (none from Open: its events wait in
// the outbox for the relay).
func (db *DB) WithPublisher(pub Publisher) *DB { return &DB{shared: db.shared, pub: pub} }

// Open connects to url and pings it.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open through what opts describe (a pooler in transaction mode).
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	db, err := NewWith(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.pool.Ping(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping postgres: %w", err)
	}
	return db, nil
}

// New returns a DB on url without contacting the server: connections are
// made on first use (Open also checks that the server answers).
func New(ctx context.Context, url string) (*DB, error) {
	return NewWith(ctx, url, Options{})
}

// NewWith is New through what opts describe.
func NewWith(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// Bookings queue on an instructor's row lock holding a connection;
		// leave room for everything else.
		cfg.MaxConns = 32
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	opts.apply(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	ins, err := jobs.NewInserter(pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{shared: &shared{pool: pool, opts: opts, jobs: ins}}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

func (db *DB) migrator() (*goose.Provider, func() error, error) {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("goose provider: %w", err)
	}
	return p, sqlDB.Close, nil
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	p, closeFn, err := db.migrator()
	if err != nil {
		return err
	}
	defer closeFn()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	// River's own tables, from its own migrator, in the same command.
	return jobs.Migrate(ctx, db.pool)
}

// MigrateDown rolls back every migration. Callers refuse it in production.
func (db *DB) MigrateDown(ctx context.Context) error {
	p, closeFn, err := db.migrator()
	if err != nil {
		return err
	}
	defer closeFn()
	if err := jobs.MigrateDown(ctx, db.pool); err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// transact runs fn in a transaction, committing if it returns nil. Constraint
// violations are translated into domain errors (see translate).
//
// A connection that turns out dead at BEGIN (Postgres restarted, backend
// terminated) is retried once on a fresh connection: nothing has been done
// yet. A failure after BEGIN is never retried here, since fn may have side
// effects outside the transaction; it is a 503 (translate). Either way the
// pool drops its other connections, which died with the same server.
func (db *DB) transact(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.inTx(ctx, db.pool, fn)
}

// inTx is transact on the pool or on one connection already acquired (the
// schedule writers' admitted connection, schedule_lock.go).
func (db *DB) inTx(ctx context.Context, b interface {
	Begin(context.Context) (pgx.Tx, error)
}, fn func(tx pgx.Tx) error) error {
	tx, err := b.Begin(ctx)
	if p, ok := b.(*pgxpool.Pool); ok && err != nil && Unavailable(err) && ctx.Err() == nil {
		p.Reset()
		tx, err = p.Begin(ctx)
	}
	if err != nil {
		return fmt.Errorf("begin: %w", db.lost(err))
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	otx := &outboxTx{Tx: tx}
	if err := fn(otx); err != nil {
		return db.lost(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", db.lost(err))
	}
	if len(otx.events) > 0 && db.pub != nil {
		// The publish outlives a caller that gives up: the change is committed.
		db.pub.PublishCommitted(context.WithoutCancel(ctx), otx.events)
	}
	return nil
}

// outboxTx is the transaction inTx hands to fn: appendEvents collects the
// events written in it, and inTx publishes them once the commit succeeded.
type outboxTx struct {
	pgx.Tx
	events []market.Event
}

// lost is translate that also resets the pool when the server went away,
// so the next requests get fresh connections instead of one dead one each.
func (db *DB) lost(err error) error {
	if Unavailable(err) {
		db.pool.Reset()
	}
	return translate(err)
}

// translate maps Postgres errors that callers can act on to domain errors,
// so no layer above store looks at SQLSTATEs.
func translate(err error) error {
	if Unavailable(err) {
		return fmt.Errorf("%w: %w", &market.Error{Code: market.EUNAVAILABLE, Message: "the database is unavailable, retry shortly"}, err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		if errors.Is(err, pgx.ErrNoRows) {
			return &market.Error{Code: market.ENOTFOUND, Message: "not found"}
		}
		return err
	}
	switch pgErr.Code {
	case "23P01": // exclusion_violation
		switch pgErr.ConstraintName {
		case "bookings_instructor_no_overlap", "bookings_student_no_overlap":
			return fmt.Errorf("%w (%s)", &market.Error{Code: market.ESLOTUNAVAIL, Message: slotMessage(pgErr.ConstraintName)}, pgErr.ConstraintName)
		case "availability_windows_no_overlap":
			return fmt.Errorf("%w", &market.Error{Code: market.EVALIDATION, Message: "windows overlap",
				Details: map[string]any{"windows": "overlaps another window on the same day"}})
		}
		return &market.Error{Code: market.ECONFLICT, Message: "conflicts with existing data"}
	case "23505": // unique_violation
		if pgErr.ConstraintName == "users_email_key" {
			return &market.Error{Code: market.ECONFLICT, Message: "email already registered",
				Details: map[string]any{"email": "already registered"}}
		}
		return &market.Error{Code: market.ECONFLICT, Message: "already exists"}
	case "23514": // check_violation
		return &market.Error{Code: market.EVALIDATION, Message: "violates rule " + pgErr.ConstraintName}
	case "23503": // foreign_key_violation
		return &market.Error{Code: market.ENOTFOUND, Message: "referenced record does not exist"}
	case "22P02", "22007", "22008", "22023": // invalid text representation / datetime
		return &market.Error{Code: market.EVALIDATION, Message: "invalid value"}
	case "40001", "40P01": // serialization failure, deadlock
		return &market.Error{Code: market.ECONFLICT, Message: "concurrent update, retry"}
	}
	return err
}

func slotMessage(constraint string) string {
	if constraint == "bookings_student_no_overlap" {
		return market.MsgStudentBusy
	}
	return market.MsgInstructorBusy
}

// Translate is translate for callers that run SQL outside a transaction (tests, tools).
func Translate(err error) error { return translate(err) }

// IsConflict reports whether err is a booking overlap (slot_unavailable).
func IsConflict(err error) bool { return market.ErrorCode(translate(err)) == market.ESLOTUNAVAIL }
