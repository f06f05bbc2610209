package storetest

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"instainstru/store"
)

// Pool is db's own connection pool, for a test's fixture SQL and its
// checks on rows. Production code reaches the database only through
// store.DB's methods.
func Pool(db *store.DB) *pgxpool.Pool { return store.PoolForTests(db) }
