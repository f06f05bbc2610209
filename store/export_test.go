package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
)

// AppendEventsForTest commits n events to topic "t" in one transaction.
func AppendEventsForTest(ctx context.Context, db *DB, n int) ([]market.Event, error) {
	evs := make([]market.NewEvent, n)
	for i := range evs {
		evs[i] = market.NewEvent{Topic: "t", Type: "x", Data: i}
	}
	return db.CommitEvents(ctx, evs)
}

// AppendOutsideInTxForTest appends an event in a transaction inTx did not
// start: the outbox must refuse it (it would never be published).
func AppendOutsideInTxForTest(ctx context.Context, db *DB) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	_, err = appendEvents(ctx, tx, []market.NewEvent{{Topic: "t", Type: "x"}})
	if err == nil {
		return fmt.Errorf("appended")
	}
	return err
}

var _ pgx.Tx = (*outboxTx)(nil)

// QueueEmailThenFailForTest queues e in a transaction that then fails.
func QueueEmailThenFailForTest(ctx context.Context, db *DB, e NewEmail) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		if err := db.queueEmailTx(ctx, tx, e); err != nil {
			return err
		}
		return market.Errorf(market.ECONFLICT, "rolled back on purpose")
	})
}

// NewPoolCollectorForTest is newPoolCollector on a pool the test owns.
func NewPoolCollectorForTest(pool *pgxpool.Pool) prometheus.Collector { return newPoolCollector(pool) }
