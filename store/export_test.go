package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// AppendEventsForTest appends n events to topic "t".
func AppendEventsForTest(ctx context.Context, tx pgx.Tx, n int) ([]market.Event, error) {
	evs := make([]market.NewEvent, n)
	for i := range evs {
		evs[i] = market.NewEvent{Topic: "t", Type: "x", Data: i}
	}
	return AppendEvents(ctx, tx, evs)
}
