package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/store"
	"instainstru/store/storetest"
)

// TestRetentionBoundsAnonymousAnalyticsRows: search_log and
// instructor_page_views, which any visitor adds to, are pruned after
// their period (400 days by default).
func TestRetentionBoundsAnonymousAnalyticsRows(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewDB(t)
	pool := storetest.Pool(db)
	var instructor string
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, password_hash, full_name) VALUES ('ret-i@example.com', 'x', 'I') RETURNING id`).Scan(&instructor); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO instructor_profiles (user_id) VALUES ($1)`, instructor); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	day := 24 * time.Hour
	for _, age := range []time.Duration{401 * day, 399 * day} {
		if _, err := pool.Exec(ctx, `INSERT INTO search_log (searched_at, result_count) VALUES ($1, 0)`, now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO instructor_page_views (instructor_id, viewed_at) VALUES ($1, $2)`, instructor, now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	r := store.NewRetention(db, store.RetentionConfig{}, prometheus.NewRegistry(), nil)
	removed, err := r.RunOnce(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if removed[store.RetentionSearchLog] != 1 || removed[store.RetentionPageViews] != 1 {
		t.Fatalf("removed %v, want one old row of each", removed)
	}
	var logs, views int
	pool.QueryRow(ctx, `SELECT count(*) FROM search_log`).Scan(&logs)             //nolint:errcheck
	pool.QueryRow(ctx, `SELECT count(*) FROM instructor_page_views`).Scan(&views) //nolint:errcheck
	if logs != 1 || views != 1 {
		t.Fatalf("%d searches and %d views left, want the recent one of each", logs, views)
	}
}
