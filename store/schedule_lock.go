package store

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// scheduleQueue lets writers of one instructor's schedule on this node wait
// their turn in process, before they take a pool connection. The row lock in
// lockSchedule stays the guard across nodes; this only keeps a rush on one
// instructor from parking pool connections on that lock (a lock convoy that
// starves every other request when the CPU is busy).
type scheduleQueue struct {
	mu    sync.Mutex
	slots map[string]*scheduleSlot
}

type scheduleSlot struct {
	turn    chan struct{} // capacity 1: holding the token is holding the turn
	waiters int
}

// acquire waits for key's turn or ctx's end; release must be called once
// when ok.
func (q *scheduleQueue) acquire(ctx context.Context, key string) (release func(), err error) {
	q.mu.Lock()
	if q.slots == nil {
		q.slots = map[string]*scheduleSlot{}
	}
	s := q.slots[key]
	if s == nil {
		s = &scheduleSlot{turn: make(chan struct{}, 1)}
		q.slots[key] = s
	}
	s.waiters++
	q.mu.Unlock()

	done := func() {
		q.mu.Lock()
		s.waiters--
		if s.waiters == 0 {
			delete(q.slots, key)
		}
		q.mu.Unlock()
	}
	select {
	case s.turn <- struct{}{}:
		return func() { <-s.turn; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// inScheduleTx runs fn in a transaction after this node's turn for the
// instructor's schedule; fn still takes the row lock (lockSchedule), which
// orders writers across nodes. Both waits are bounded: a write that cannot
// start within its budget is refused with ErrOverloaded (admission.go).
func (db *DB) inScheduleTx(ctx context.Context, instructorID string, fn func(tx pgx.Tx) error) error {
	return db.admittedScheduleTx(ctx, instructorID, fn)
}

// scheduleWrite is inScheduleTx that also takes the schedule row lock
// first, handing fn the instructor's time zone: the opening every
// availability write shares.
func (db *DB) scheduleWrite(ctx context.Context, instructorID string, fn func(tx pgx.Tx, loc *time.Location) error) error {
	return db.inScheduleTx(ctx, instructorID, func(tx pgx.Tx) error {
		loc, err := lockSchedule(ctx, tx, instructorID)
		if err != nil {
			return err
		}
		return fn(tx, loc)
	})
}

// inBookingTx is inScheduleTx for a booking's instructor (which a booking
// never changes, so it may be read before the transaction). An unknown id
// skips the turn; the transaction then reports it.
func (db *DB) inBookingTx(ctx context.Context, bookingID string, fn func(tx pgx.Tx) error) error {
	var instructorID string
	err := db.pool.QueryRow(ctx, `SELECT instructor_id FROM bookings WHERE id = $1`, bookingID).Scan(&instructorID)
	if err != nil {
		return db.transact(ctx, fn)
	}
	return db.inScheduleTx(ctx, instructorID, fn)
}
