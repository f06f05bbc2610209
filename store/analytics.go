package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// AnalyticsZone is the zone whose calendar days the analytics series use.
const AnalyticsZone = "America/New_York"

// MaxAnalyticsDays bounds a range (inclusive days) so one request cannot
// scan years of rows.
const MaxAnalyticsDays = 366

// ValidateAnalyticsRange checks an inclusive [from, to] range of dates:
// EVALIDATION when from is after to or it spans more than a year.
func ValidateAnalyticsRange(from, to time.Time) error {
	if from.After(to) {
		return market.ValidationError(map[string]string{"from": "must not be after to"})
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > MaxAnalyticsDays {
		return market.ValidationError(map[string]string{"to": fmt.Sprintf("range is %d days; at most %d", days, MaxAnalyticsDays)})
	}
	return nil
}

// The day bounds of [from, to] in AnalyticsZone as instants: $1 and $2 are
// the dates, every series filters its timestamp between them.
const (
	dayOf   = `(%s AT TIME ZONE 'America/New_York')::date`
	inRange = `%[1]s >= ($1::date::timestamp AT TIME ZONE 'America/New_York')
		AND %[1]s < (($2::date + 1)::timestamp AT TIME ZONE 'America/New_York')`
	days = `SELECT d::date AS day FROM generate_series($1::date, $2::date, interval '1 day') AS d`
)

func bucket(col string) string  { return fmt.Sprintf(dayOf, col) }
func between(col string) string { return fmt.Sprintf(inRange, col) }

// BookingDay is one day of bookings created and cancelled.
type BookingDay struct {
	Date      string `json:"date"`
	Created   int    `json:"created"`
	Cancelled int    `json:"cancelled"`
}

// BookingSeries counts, per day of [from, to] (every day present), the
// bookings created and the bookings cancelled that day.
func (db *DB) BookingSeries(ctx context.Context, from, to time.Time) ([]BookingDay, error) {
	return series[BookingDay](ctx, db, `WITH days AS (`+days+`),
		c AS (SELECT `+bucket("created_at")+` AS day, count(*) AS n FROM bookings WHERE `+between("created_at")+` GROUP BY 1),
		x AS (SELECT `+bucket("cancelled_at")+` AS day, count(*) AS n FROM bookings
			WHERE cancelled_at IS NOT NULL AND `+between("cancelled_at")+` GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(c.n, 0)::int, COALESCE(x.n, 0)::int
		FROM days LEFT JOIN c USING (day) LEFT JOIN x USING (day) ORDER BY day`, from, to)
}

// LateCancellationDay is one day's cancellations and how many of them came
// within LateCancelWindow of the lesson's start.
type LateCancellationDay struct {
	Date      string `json:"date"`
	Cancelled int    `json:"cancelled"`
	Late      int    `json:"late"`
}

// LateCancelWindow: a cancellation this close to the lesson's start is late.
const LateCancelWindow = 24 * time.Hour

// LateCancellationSeries counts cancellations per day of cancellation and
// the late ones among them (less than LateCancelWindow before the start).
func (db *DB) LateCancellationSeries(ctx context.Context, from, to time.Time) ([]LateCancellationDay, error) {
	return series[LateCancellationDay](ctx, db, `WITH days AS (`+days+`),
		x AS (SELECT `+bucket("cancelled_at")+` AS day, count(*) AS n,
				count(*) FILTER (WHERE cancelled_at > lower(during) - $3::interval) AS late
			FROM bookings WHERE cancelled_at IS NOT NULL AND `+between("cancelled_at")+` GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(x.n, 0)::int, COALESCE(x.late, 0)::int
		FROM days LEFT JOIN x USING (day) ORDER BY day`, from, to, LateCancelWindow)
}

// SearchDay is one day of searches and those that found nothing.
type SearchDay struct {
	Date        string `json:"date"`
	Searches    int    `json:"searches"`
	ZeroResults int    `json:"zero_results"`
}

// tableExists reports whether a table is in the schema; the search log and
// notifications come from other migrations, so analytics work with or
// without them.
func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("check table %s: %w", name, err)
	}
	return ok, nil
}

// SearchSeries counts searches and zero-result searches per day from
// search_log. available is false (and every day zero) when the search log
// table does not exist.
func (db *DB) SearchSeries(ctx context.Context, from, to time.Time) (out []SearchDay, available bool, err error) {
	if available, err = db.tableExists(ctx, "search_log"); err != nil {
		return nil, false, err
	}
	if !available {
		out, err = series[SearchDay](ctx, db, `SELECT to_char(day, 'YYYY-MM-DD'), 0, 0 FROM (`+days+`) d ORDER BY day`, from, to)
		return out, false, err
	}
	out, err = series[SearchDay](ctx, db, `WITH days AS (`+days+`),
		s AS (SELECT `+bucket("searched_at")+` AS day, count(*) AS n, count(*) FILTER (WHERE result_count = 0) AS z
			FROM search_log WHERE `+between("searched_at")+` GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(s.n, 0)::int, COALESCE(s.z, 0)::int
		FROM days LEFT JOIN s USING (day) ORDER BY day`, from, to)
	return out, true, err
}

// ConversionDay is one day of instructor-page views, searches and bookings
// created. The rates are per day, not per visitor: nothing personal is
// recorded with a view or a search, so a booking cannot be traced back to
// the view that led to it. Nil when the denominator is zero.
type ConversionDay struct {
	Date             string   `json:"date"`
	Views            int      `json:"views"`
	Searches         int      `json:"searches"`
	Bookings         int      `json:"bookings"`
	ViewConversion   *float64 `json:"view_conversion"`
	SearchConversion *float64 `json:"search_conversion"`
}

// ConversionSeries joins per-day page views, searches (zero when there is
// no search log) and bookings created.
func (db *DB) ConversionSeries(ctx context.Context, from, to time.Time) ([]ConversionDay, error) {
	hasSearch, err := db.tableExists(ctx, "search_log")
	if err != nil {
		return nil, err
	}
	searches := `SELECT NULL::date AS day, 0::bigint AS n WHERE false`
	if hasSearch {
		searches = `SELECT ` + bucket("searched_at") + ` AS day, count(*) AS n FROM search_log WHERE ` +
			between("searched_at") + ` GROUP BY 1`
	}
	return series[ConversionDay](ctx, db, `WITH days AS (`+days+`),
		v AS (SELECT `+bucket("viewed_at")+` AS day, count(*) AS n FROM instructor_page_views WHERE `+between("viewed_at")+` GROUP BY 1),
		s AS (`+searches+`),
		b AS (SELECT `+bucket("created_at")+` AS day, count(*) AS n FROM bookings WHERE `+between("created_at")+` GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(v.n, 0)::int, COALESCE(s.n, 0)::int, COALESCE(b.n, 0)::int,
			CASE WHEN v.n > 0 THEN COALESCE(b.n, 0)::float8 / v.n END,
			CASE WHEN s.n > 0 THEN COALESCE(b.n, 0)::float8 / s.n END
		FROM days LEFT JOIN v USING (day) LEFT JOIN s USING (day) LEFT JOIN b USING (day) ORDER BY day`, from, to)
}

// RankedCount is one row of a top-N list.
type RankedCount struct {
	Name         string `json:"name"`
	Bookings     int    `json:"bookings"`
	RevenueCents int64  `json:"revenue_cents"`
}

// TopServices ranks catalog services by bookings created in the range
// (cancelled ones excluded), at most limit rows.
func (db *DB) TopServices(ctx context.Context, from, to time.Time, limit int) ([]RankedCount, error) {
	return series[RankedCount](ctx, db, `SELECT s.name, count(*)::int, sum(b.price_cents)::bigint
		FROM bookings b JOIN instructor_services isv ON isv.id = b.instructor_service_id
		JOIN services s ON s.id = isv.service_id
		WHERE b.status <> 'cancelled' AND `+between("b.created_at")+`
		GROUP BY s.name ORDER BY 2 DESC, 1 LIMIT $3`, from, to, limit)
}

// TopAreas ranks areas by bookings created in the range (cancelled ones
// excluded). A booking counts for each area its instructor serves:
// bookings carry no area of their own.
func (db *DB) TopAreas(ctx context.Context, from, to time.Time, limit int) ([]RankedCount, error) {
	return series[RankedCount](ctx, db, `SELECT a, count(*)::int, sum(b.price_cents)::bigint
		FROM bookings b JOIN instructor_profiles p ON p.user_id = b.instructor_id, unnest(p.areas) AS a
		WHERE b.status <> 'cancelled' AND `+between("b.created_at")+`
		GROUP BY a ORDER BY 2 DESC, 1 LIMIT $3`, from, to, limit)
}

// UtilisationDay is one lesson date's open hours (availability windows of
// every instructor) and booked hours (confirmed or completed lessons).
type UtilisationDay struct {
	Date        string   `json:"date"`
	OpenHours   float64  `json:"open_hours"`
	BookedHours float64  `json:"booked_hours"`
	Utilisation *float64 `json:"utilisation"`
}

// UtilisationSeries sums open and booked hours per lesson date (the
// instructor's local date) over every instructor.
func (db *DB) UtilisationSeries(ctx context.Context, from, to time.Time) ([]UtilisationDay, error) {
	return series[UtilisationDay](ctx, db, `WITH days AS (`+days+`),
		o AS (SELECT date AS day, sum(extract(epoch FROM (end_time - start_time))) / 3600 AS h
			FROM availability_windows WHERE date BETWEEN $1 AND $2 GROUP BY 1),
		b AS (SELECT date AS day, sum(duration_minutes) / 60.0 AS h
			FROM bookings WHERE date BETWEEN $1 AND $2 AND status IN ('confirmed', 'completed') GROUP BY 1)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(o.h, 0)::float8, COALESCE(b.h, 0)::float8,
			CASE WHEN o.h > 0 THEN COALESCE(b.h, 0)::float8 / o.h::float8 END
		FROM days LEFT JOIN o USING (day) LEFT JOIN b USING (day) ORDER BY day`, from, to)
}

// NotificationDay is one day of in-app notifications created and jobs
// (emails, reminders) that finished: sent, or failed for good.
type NotificationDay struct {
	Date    string `json:"date"`
	Created int    `json:"created"`
	Sent    int    `json:"sent"`
	Failed  int    `json:"failed"`
}

// NotificationAvailability says which sources existed for NotificationSeries.
type NotificationAvailability struct {
	Notifications bool `json:"notifications"`
	Jobs          bool `json:"jobs"`
}

// NotificationSeries counts notifications created (table notifications) and
// River jobs finalized as completed (sent) or discarded (failed after its
// retries) per day. Each source that does not exist counts zero.
func (db *DB) NotificationSeries(ctx context.Context, from, to time.Time) ([]NotificationDay, NotificationAvailability, error) {
	var av NotificationAvailability
	var err error
	if av.Notifications, err = db.tableExists(ctx, "notifications"); err != nil {
		return nil, av, err
	}
	if av.Jobs, err = db.tableExists(ctx, "river_job"); err != nil {
		return nil, av, err
	}
	created := `SELECT NULL::date AS day, 0::bigint AS n WHERE false`
	if av.Notifications {
		created = `SELECT ` + bucket("created_at") + ` AS day, count(*) AS n FROM notifications WHERE ` +
			between("created_at") + ` GROUP BY 1`
	}
	jobs := `SELECT NULL::date AS day, 0::bigint AS sent, 0::bigint AS failed WHERE false`
	if av.Jobs {
		jobs = `SELECT ` + bucket("finalized_at") + ` AS day,
			count(*) FILTER (WHERE state = 'completed') AS sent, count(*) FILTER (WHERE state = 'discarded') AS failed
			FROM river_job WHERE finalized_at IS NOT NULL AND ` + between("finalized_at") + ` GROUP BY 1`
	}
	out, err := series[NotificationDay](ctx, db, `WITH days AS (`+days+`), c AS (`+created+`), j AS (`+jobs+`)
		SELECT to_char(day, 'YYYY-MM-DD'), COALESCE(c.n, 0)::int, COALESCE(j.sent, 0)::int, COALESCE(j.failed, 0)::int
		FROM days LEFT JOIN c USING (day) LEFT JOIN j USING (day) ORDER BY day`, from, to)
	return out, av, err
}

// series runs an aggregate query and collects its rows, in column order,
// into T.
func series[T any](ctx context.Context, db *DB, sql string, args ...any) ([]T, error) {
	rows, err := db.Pool.Query(ctx, sql, args...)
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
	if _, err := db.Pool.Exec(ctx, `INSERT INTO instructor_page_views (instructor_id) VALUES ($1)`, instructorID); err != nil {
		return fmt.Errorf("record view: %w", translate(err))
	}
	return nil
}
