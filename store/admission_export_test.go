package store

import "context"

// HoldTurnForTest takes this node's turn for instructorID's schedule, as a
// writer in progress would.
func (db *DB) HoldTurnForTest(ctx context.Context, instructorID string) (release func(), err error) {
	return db.schedules.acquire(ctx, instructorID)
}
