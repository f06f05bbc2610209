package store_test

import (
	"context"
	"testing"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// TestQueuedEmailRollsBackWithItsTransaction: an email queued in a
// transaction that fails leaves neither the email row nor its job.
func TestQueuedEmailRollsBackWithItsTransaction(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, market.NewUser{Email: "rollback@example.com", PasswordHash: "x", FullName: "R", Role: market.RoleStudent})
	if err != nil {
		t.Fatal(err)
	}
	err = store.QueueEmailThenFailForTest(ctx, db, store.NewEmail{UserID: u.ID, Template: "booking.confirmed", Key: "rollback-test"})
	if market.ErrorCode(err) != market.ECONFLICT {
		t.Fatalf("err %v, want the transaction's own conflict", err)
	}
	var n int
	if err := storetest.Pool(db).QueryRow(ctx, `SELECT (SELECT count(*) FROM emails) + (SELECT count(*) FROM river_job)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d email rows or jobs left by a rolled-back transaction", n)
	}
}
