package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

func TestUnpublishedMarkPublishedAndEventRetention(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	evs, err := store.AppendEventsForTest(ctx, db, 3)
	must(t, err)
	if got, err := db.Unpublished(ctx, time.Hour, 10); err != nil || len(got) != 0 {
		t.Fatalf("events younger than minAge must wait for the fast path: %d %v", len(got), err)
	}
	got, err := db.Unpublished(ctx, 0, 10)
	must(t, err)
	if len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Fatalf("unpublished = %+v", got)
	}
	if lag, err := db.OutboxLag(ctx); err != nil || lag <= 0 {
		t.Fatalf("lag %v %v", lag, err)
	}
	must(t, db.MarkPublished(ctx, []int64{evs[0].ID, evs[1].ID}))
	got, _ = db.Unpublished(ctx, 0, 10)
	if len(got) != 1 || got[0].ID != evs[2].ID {
		t.Fatalf("after mark: %+v", got)
	}
	// Age everything, then prune: published events and old idempotency keys
	// go; the unpublished event stays; topic seq does not restart.
	_, err = storetest.Pool(db).Exec(ctx, `UPDATE events SET created_at = created_at - interval '2 days'`)
	must(t, err)
	u, err := db.CreateUser(ctx, market.NewUser{Email: "k@example.com", PasswordHash: "x", FullName: "K", Role: market.RoleStudent})
	must(t, err)
	_, err = storetest.Pool(db).Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
		VALUES ($1, 'old', '\x00', now() - interval '2 days'), ($1, 'new', '\x00', now())`, u.ID)
	must(t, err)
	cutoff := time.Now().Add(-24 * time.Hour)
	n, err := db.Prune(ctx, store.RetentionEvents, cutoff, 1) // batch 1: the loop must go round
	must(t, err)
	if n != 2 {
		t.Fatalf("pruned %d events, want the 2 published ones", n)
	}
	n, err = db.Prune(ctx, store.RetentionIdempotencyKeys, cutoff, 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("pruned %d idempotency keys, want the 1 old one", n)
	}
	var keys []string
	rows, _ := storetest.Pool(db).Query(ctx, `SELECT key FROM idempotency_keys`)
	keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	if len(keys) != 1 || keys[0] != "new" {
		t.Fatalf("keys left %v, want [new]", keys)
	}
	if oldest, _ := db.OldestSeq(ctx, "t"); oldest != 3 {
		t.Fatalf("oldest seq %d, want 3", oldest)
	}
	if seq, _ := db.TopicSeq(ctx, "t"); seq != 3 {
		t.Fatalf("topic seq %d, want 3", seq)
	}
}

func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	must(t, db.MigrateDown(ctx))
	var tables int
	must(t, storetest.Pool(db).QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`).Scan(&tables))
	if tables != 0 {
		t.Fatalf("%d tables left after migrate down", tables)
	}
	must(t, db.Migrate(ctx))
	if seq, err := db.TopicSeq(ctx, "t"); err != nil || seq != 0 {
		t.Fatalf("schema unusable after migrating up again: %v", err)
	}
}

func TestCommittedEventsArePublishedByTheViewThatWroteThem(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	rec := &recorder{}
	evs, err := store.AppendEventsForTest(ctx, db.WithPublisher(rec), 2)
	must(t, err)
	got := rec.take()
	if len(got) != 2 || got[0].ID != evs[0].ID || got[1].ID != evs[1].ID || got[1].Seq != 2 {
		t.Fatalf("published %+v, want the committed %+v", got, evs)
	}
	if _, err := store.AppendEventsForTest(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a write through the view-less db reached the view's publisher: %+v", got)
	}
	if err := store.AppendOutsideInTxForTest(ctx, db); err == nil || !strings.Contains(err.Error(), "outside inTx") {
		t.Fatalf("appending in a transaction inTx did not start: %v, want refused", err)
	}
}
