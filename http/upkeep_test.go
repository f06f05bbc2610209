package http

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// upkeepNode runs the cluster's periodic jobs (JOB_WORKERS>0) once an hour:
// each task's first run is inserted when a leader is elected. The relay
// waits an hour, so an event published within the test came from the
// node's fast path (the store's publisher), not from the relay.
func upkeepNode(workers int) rtNodeOpt {
	return func(c *NodeConfig) {
		c.Notify.Workers = workers
		c.Notify.PollInterval = 100 * time.Millisecond
		c.RelayDelay = time.Hour
		c.LessonCompletion = time.Hour
		c.Retention = store.RetentionConfig{Interval: time.Hour}
	}
}

func gathered(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// TestUpkeepRunsAsPeriodicJobsOnceAcrossTheCluster starts a web-only node
// (no workers: it must not complete lessons or prune), then two nodes with
// workers on the same database: the ended lesson is completed and its
// booking.completed published at once, old read notifications and search
// history go, the counts reach the metrics, and each task ran exactly once
// although both nodes run workers.
func TestUpkeepRunsAsPeriodicJobsOnceAcrossTheCluster(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	_, in, offer := newSchedInstructor(ts)
	_, su := ts.signUp(market.RoleStudent)
	past := ts.pastLesson(in.ID, offer, su.ID)
	if _, err := storetest.Pool(ts.db).Exec(ctx, `INSERT INTO notifications (user_id, kind, title, body, read_at) VALUES
		($1, 'booking.created', 'old', 'b', now() - interval '91 days'),
		($1, 'booking.created', 'recent', 'b', now() - interval '1 day')`, su.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Pool(ts.db).Exec(ctx, `INSERT INTO search_history (user_id, query, normalized, searched_at, result_count) VALUES
		($1, 'old', 'old', now() - interval '181 days', 1), ($1, 'recent', 'recent', now(), 1)`, su.ID); err != nil {
		t.Fatal(err)
	}
	count := func(sql string, args ...any) int {
		var n int
		if err := storetest.Pool(ts.db).QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	status := func() string {
		var s string
		if err := storetest.Pool(ts.db).QueryRow(ctx, `SELECT status FROM bookings WHERE id = $1`, past.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	startNode(t, ts.db, "", "", "upkeep-web", upkeepNode(0))
	time.Sleep(1500 * time.Millisecond) // a node without workers must NOT complete the lesson: give it the time it would take
	if s := status(); s != string(market.BookingConfirmed) {
		t.Fatalf("a node without workers changed the lesson to %s", s)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = 'periodic'`); n != 0 {
		t.Fatalf("a node without workers scheduled %d periodic jobs", n)
	}

	a := startNode(t, ts.db, "", "", "upkeep-a", upkeepNode(1))
	b := startNode(t, ts.db, "", "", "upkeep-b", upkeepNode(1))
	// Generous: under the whole -race suite on two cores, leader election
	// and the first runs once took over 20s.
	if !eventually.Within(60*time.Second, func() bool {
		return status() == string(market.BookingCompleted) && count(`SELECT count(*) FROM river_job
		WHERE kind = 'periodic' AND state <> 'completed'`) == 0
	}) {
		rows, err := storetest.Pool(ts.db).Query(ctx, `SELECT args->>'task', state, attempt, errors::text FROM river_job WHERE kind = 'periodic'`)
		if err == nil {
			for rows.Next() {
				var task, state, errs string
				var attempt int
				if rows.Scan(&task, &state, &attempt, &errs) == nil {
					t.Logf("job %s: %s, attempt %d, errors %s", task, state, attempt, errs)
				}
			}
			rows.Close()
		}
		t.Fatalf("lesson %s, periodic jobs not all completed after 60s", status())
	}
	// Published by the fast path: the relay would wait an hour.
	eventually.True(t, 10*time.Second, "booking.completed published by the store's publisher", func() bool {
		return count(`SELECT count(*) FROM events WHERE type = $1`, market.EventBookingCompleted) > 0 &&
			count(`SELECT count(*) FROM events WHERE type = $1 AND published_at IS NULL`, market.EventBookingCompleted) == 0
	})
	if n := count(`SELECT count(*) FROM notifications WHERE user_id = $1 AND title IN ('old', 'recent')`, su.ID); n != 1 ||
		count(`SELECT count(*) FROM notifications WHERE title = 'recent'`) != 1 {
		t.Error("read notifications left are not exactly the recent one")
	}
	if n := count(`SELECT count(*) FROM search_history WHERE user_id = $1`, su.ID); n != 1 ||
		count(`SELECT count(*) FROM search_history WHERE query = 'recent'`) != 1 {
		t.Error("search history left is not exactly the recent query")
	}

	// Each task ran once, on one of the two nodes: its metrics add up to
	// exactly what was removed.
	tasks := []string{"lesson_completion", "retention.refresh_tokens", "retention.audit", "retention.lesson_notes",
		"retention.read_notifications", "retention.emails", "retention.search_history", "retention.events",
		"retention.idempotency_keys", "retention.page_views", "retention.search_log"}
	for _, task := range tasks {
		if n := count(`SELECT count(*) FROM river_job WHERE kind = 'periodic' AND args->>'task' = $1`, task); n != 1 {
			t.Errorf("task %s: %d jobs, want 1", task, n)
		}
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = 'periodic'`); n != len(tasks) {
		t.Errorf("%d periodic jobs, want %d", n, len(tasks))
	}
	sum := func(name string, labels map[string]string) float64 {
		total := 0.0
		for _, n := range []*rtNode{a, b} {
			total += opsValue(t, gathered(t, n.node.Registry), name, labels)
		}
		return total
	}
	if v := sum("instainstru_lessons_completed_total", nil); v != 1 {
		t.Errorf("lessons completed metric %v, want 1", v)
	}
	for kind, want := range map[string]float64{store.RetentionReadNotifications: 1, store.RetentionSearchHistory: 1} {
		if v := sum("instainstru_retention_removed_total", map[string]string{"kind": kind}); v != want {
			t.Errorf("retention removed{kind=%s} = %v, want %v", kind, v, want)
		}
	}
}
