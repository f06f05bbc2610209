package store_test

import (
	"context"
	"regexp"
	"testing"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// The rule "which bookings take time" is written once in Go
// (market.BlocksTime) and once in SQL (the store's blocksTimeSQL, used by
// every query that needs it). For every status the bookings table allows
// (read from its CHECK constraint), the two must agree.
func TestBlocksTimeSQLIsMarketBlocksTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(storetest.NewDB(t))
	var def string
	noErr(t, pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bookings_status'`).Scan(&def))
	statuses := regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(def, -1)
	if len(statuses) != 4 {
		t.Fatalf("bookings_status allows %d statuses (%s), want the 4 of package market", len(statuses), def)
	}
	for _, m := range statuses {
		status := m[1]
		var inSQL bool
		noErr(t, pool.QueryRow(ctx, `SELECT `+store.BlocksTimeSQL("b")+` FROM (VALUES ($1::varchar)) AS b(status)`, status).Scan(&inSQL))
		var unaliased bool
		noErr(t, pool.QueryRow(ctx, `SELECT `+store.BlocksTimeSQL("")+` FROM (VALUES ($1::varchar)) AS t(status)`, status).Scan(&unaliased))
		if inSQL != market.BlocksTime(status) || unaliased != inSQL {
			t.Errorf("status %q: SQL says %v (unaliased %v), market.BlocksTime says %v", status, inSQL, unaliased, market.BlocksTime(status))
		}
	}
}
