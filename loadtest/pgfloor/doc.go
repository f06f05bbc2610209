// Package pgfloor is the write path's Postgres floor (docs/SPEC.md §7): the
// statements one booking — and one availability change, a booking and its
// cancellation — sends, replayed by pgbench against the same database with
// the same concurrency (one client per instructor, as the hub serializes
// each instructor's writes), no Go in between. The hub's write scenarios are
// reported as a ratio to it.
//
// The scripts (booking.sql, change.sql, args.json) are recorded from the
// store itself: record_test.go runs a real booking and cancellation through
// store.DB with a tracer and writes every statement, with its round-trip
// grouping (pgx batches become pgbench pipelines), to the scripts, and
// fails when they no longer match what the store sends (go test
// ./loadtest/pgfloor -update rewrites them). Values that must differ per
// transaction (the booking's and notifications' ids, the slot, the
// idempotency key, River's unique keys) are computed by one statement
// before BEGIN; per-client values (instructor, student, offer) come from a
// fixture the driver creates (fixture.go); every other value is the
// recorded one, read from args.json.
package pgfloor
