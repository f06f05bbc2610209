package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pooling is what sits between the hub and Postgres, which decides what
// session state the hub may rely on (DB_POOLING).
type Pooling int

const (
	// PoolingSession: each pool connection is one Postgres session for its
	// whole life (a direct connection, or PgBouncer in session mode). pgx
	// caches named prepared statements per connection.
	PoolingSession Pooling = iota
	// PoolingTransaction: a pooler (PgBouncer pool_mode=transaction) lends
	// a server connection per transaction, so nothing may outlive one: no
	// named prepared statements, no session advisory locks, no LISTEN, no
	// SET. Statements run as unnamed ones with their descriptions cached
	// (pgx QueryExecModeCacheDescribe: one round trip, binary formats); the
	// outbox relay leads by a lease row (relay_lease.go) and River polls
	// (jobs.RunnerConfig.PollOnly).
	PoolingTransaction
)

// ParsePooling reads DB_POOLING: "" or "session", or "transaction".
func ParsePooling(s string) (Pooling, error) {
	switch s {
	case "", "session":
		return PoolingSession, nil
	case "transaction":
		return PoolingTransaction, nil
	}
	return 0, fmt.Errorf("DB_POOLING=%q: want session or transaction", s)
}

// String is the DB_POOLING value.
func (p Pooling) String() string {
	if p == PoolingTransaction {
		return "transaction"
	}
	return "session"
}

// Options tune how a DB reaches Postgres; the zero value is a direct
// connection.
type Options struct {
	Pooling Pooling
	// Tracer sees every statement the pool sends (tools and tests: the
	// Postgres floor's scripts are recorded from it, loadtest/pgfloor).
	Tracer pgx.QueryTracer
}

// apply sets what opts decide on a pool's config.
func (o Options) apply(cfg *pgxpool.Config) {
	if o.Tracer != nil {
		cfg.ConnConfig.Tracer = o.Tracer
	}
	if o.Pooling == PoolingTransaction {
		// Named statements would live in whichever server session prepared
		// them, and the next transaction may run on another one
		// ("prepared statement stmtcache_… already exists" / "does not
		// exist"). Unnamed statements live for one Parse/Bind/Execute.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		cfg.ConnConfig.StatementCacheCapacity = 0
	}
}

// Pooling reports how this DB reaches Postgres.
func (db *DB) Pooling() Pooling { return db.opts.Pooling }
