package store

import "github.com/jackc/pgx/v5/pgxpool"

// PoolForTests hands db's pool to the test harness (store/storetest), whose
// fixtures write rows no public method would (a lesson in the past, a
// revoked role, an aged token). Nothing else may call it: the pool stays
// inside store, and TestOnlyStoretestReachesThePool fails the build's tests
// if a package other than storetest names this function.
func PoolForTests(db *DB) *pgxpool.Pool { return db.pool }
