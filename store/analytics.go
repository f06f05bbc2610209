package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// days lists each date of [$1, $2] with its bounds in AnalyticsZone as
// instants [lo, hi). Per-day counts are index range scans between them, so
// no row needs a time-zone conversion (the cost that dominated bucketing
// by "ts AT TIME ZONE").
const days = `SELECT d::date AS day, d::date::timestamp AT TIME ZONE 'America/New_York' AS lo,
	(d::date + 1)::timestamp AT TIME ZONE 'America/New_York' AS hi
	FROM generate_series($1::date, $2::date, interval '1 day') AS d`

// perDay counts the rows of table whose col falls on the day (lo, hi in
// scope), with an optional extra condition.
func perDay(table, col, cond string) string {
	if cond != "" {
		cond = " AND " + cond
	}
	return fmt.Sprintf(`(SELECT count(*) FROM %s WHERE %s >= days.lo AND %s < days.hi%s)::int`, table, col, col, cond)
}

// between filters col to the whole range [$1, $2] in AnalyticsZone.
func between(col string) string {
	return fmt.Sprintf(`%[1]s >= ($1::date::timestamp AT TIME ZONE 'America/New_York')
		AND %[1]s < (($2::date + 1)::timestamp AT TIME ZONE 'America/New_York')`, col)
}

// BookingSeries counts, per day of [from, to] (every day present), the
// bookings created and the bookings cancelled that day.
func (db *DB) BookingSeries(ctx context.Context, from, to time.Time) ([]market.BookingDay, error) {
	return series[market.BookingDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), `+
		perDay("bookings", "created_at", "")+`, `+perDay("bookings", "cancelled_at", "")+`
		FROM (`+days+`) days ORDER BY day`, from, to)
}

// LateCancelWindow: a cancellation this close to the lesson's start is late.
const LateCancelWindow = 24 * time.Hour

// LateCancellationSeries counts cancellations per day of cancellation and
// the late ones among them (less than LateCancelWindow before the start).
func (db *DB) LateCancellationSeries(ctx context.Context, from, to time.Time) ([]market.LateCancellationDay, error) {
	return series[market.LateCancellationDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), `+
		perDay("bookings", "cancelled_at", "")+`, `+
		perDay("bookings", "cancelled_at", "cancelled_at > lower(during) - $3::interval")+`
		FROM (`+days+`) days ORDER BY day`, from, to, LateCancelWindow)
}

// tableExists reports whether a table is in the schema; the search log and
// notifications come from other migrations, so analytics work with or
// without them.
func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("check table %s: %w", name, err)
	}
	return ok, nil
}

// SearchSeries counts searches and zero-result searches per day from
// search_log. available is false (and every day zero) when the search log
// table does not exist.
func (db *DB) SearchSeries(ctx context.Context, from, to time.Time) (out []market.SearchDay, available bool, err error) {
	if available, err = db.tableExists(ctx, "search_log"); err != nil {
		return nil, false, err
	}
	searches, zero := "0", "0"
	if available {
		searches, zero = perDay("search_log", "searched_at", ""), perDay("search_log", "searched_at", "result_count = 0")
	}
	out, err = series[market.SearchDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), `+searches+`, `+zero+`
		FROM (`+days+`) days ORDER BY day`, from, to)
	return out, available, err
}

// ConversionSeries joins per-day page views, searches (zero when there is
// no search log) and bookings created.
func (db *DB) ConversionSeries(ctx context.Context, from, to time.Time) ([]market.ConversionDay, error) {
	hasSearch, err := db.tableExists(ctx, "search_log")
	if err != nil {
		return nil, err
	}
	searches := "0"
	if hasSearch {
		searches = perDay("search_log", "searched_at", "")
	}
	return series[market.ConversionDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), v, s, b,
			CASE WHEN v > 0 THEN b::float8 / v END, CASE WHEN s > 0 THEN b::float8 / s END
		FROM (SELECT day, `+perDay("instructor_page_views", "viewed_at", "")+` AS v, `+searches+` AS s, `+
		perDay("bookings", "created_at", "")+` AS b FROM (`+days+`) days) c ORDER BY day`, from, to)
}

// TopServices ranks catalog services by bookings created in the range
// (cancelled ones excluded), at most limit rows.
func (db *DB) TopServices(ctx context.Context, from, to time.Time, limit int) ([]market.RankedCount, error) {
	return series[market.RankedCount](ctx, db, `WITH per AS (SELECT instructor_service_id AS o, count(*) AS n, sum(price_cents) AS rev
			FROM bookings WHERE status <> 'cancelled' AND `+between("created_at")+` GROUP BY 1)
		SELECT s.name, sum(per.n)::int, sum(per.rev)::bigint
		FROM per JOIN instructor_services isv ON isv.id = per.o JOIN services s ON s.id = isv.service_id
		GROUP BY s.name ORDER BY 2 DESC, 1 LIMIT $3`, from, to, limit)
}

// TopAreas ranks areas by bookings created in the range (cancelled ones
// excluded). Each booking counts once, in the area of the lesson itself
// (bookings.area, chosen when booking); a lesson booked before areas were
// recorded counts in its instructor's first area.
func (db *DB) TopAreas(ctx context.Context, from, to time.Time, limit int) ([]market.RankedCount, error) {
	return series[market.RankedCount](ctx, db, `SELECT COALESCE(NULLIF(b.area, ''), p.areas[1], 'Unknown') AS a,
			count(*)::int, sum(b.price_cents)::bigint
		FROM bookings b JOIN instructor_profiles p ON p.user_id = b.instructor_id
		WHERE b.status <> 'cancelled' AND `+between("b.created_at")+`
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $3`, from, to, limit)
}

// UtilisationSeries sums open and booked hours per lesson date (the
// instructor's local date) over every instructor.
func (db *DB) UtilisationSeries(ctx context.Context, from, to time.Time) ([]market.UtilisationDay, error) {
	return series[market.UtilisationDay](ctx, db, `WITH days AS (`+days+`),
		o AS (SELECT date AS day, sum(extract(epoch FROM (end_time - start_time))) / 3600 AS h
			FROM availability_windows WHERE date BETWEEN $1 AND $2 GROUP BY 1),
		b AS (SELECT date AS day, sum(duration_minutes) / 60.0 AS h
			FROM bookings WHERE date BETWEEN $1 AND $2 AND status IN ('confirmed', 'completed') GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(o.h, 0)::float8, COALESCE(b.h, 0)::float8,
			CASE WHEN o.h > 0 THEN COALESCE(b.h, 0)::float8 / o.h::float8 END
		FROM days LEFT JOIN o USING (day) LEFT JOIN b USING (day) ORDER BY day`, from, to)
}

// NotificationSeries counts notifications created (table notifications) and
// River jobs finalized as completed (sent) or discarded (failed after its
// retries) per day. Each source that does not exist counts zero.
func (db *DB) NotificationSeries(ctx context.Context, from, to time.Time) ([]market.NotificationDay, market.NotificationAvailability, error) {
	var av market.NotificationAvailability
	var err error
	if av.Notifications, err = db.tableExists(ctx, "notifications"); err != nil {
		return nil, av, err
	}
	if av.Jobs, err = db.tableExists(ctx, "river_job"); err != nil {
		return nil, av, err
	}
	created, sent, failed := "0", "0", "0"
	if av.Notifications {
		created = perDay("notifications", "created_at", "")
	}
	if av.Jobs {
		sent = perDay("river_job", "finalized_at", "state = 'completed'")
		failed = perDay("river_job", "finalized_at", "state = 'discarded'")
	}
	out, err := series[market.NotificationDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), `+created+`, `+sent+`, `+failed+`
		FROM (`+days+`) days ORDER BY day`, from, to)
	return out, av, err
}

// series runs an aggregate query and collects its rows, in column order,
// into T.
func series[T any](ctx context.Context, db *DB, sql string, args ...any) ([]T, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	return out, nil
}

// RecordInstructorView counts one view of an instructor's page (the
// instructor and the time, nothing about the viewer).
func (db *DB) RecordInstructorView(ctx context.Context, instructorID string) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO instructor_page_views (instructor_id) VALUES ($1)`, instructorID); err != nil {
		return fmt.Errorf("record view: %w", translate(err))
	}
	return nil
}
