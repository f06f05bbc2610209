package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	tx, err := db.Pool.Begin(ctx)
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
