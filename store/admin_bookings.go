package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// AdminBookings returns a page of bookings matching f and the cursor of the
// next page ("" at the end). Returns EVALIDATION for a bad status or cursor.
func (db *DB) AdminBookings(ctx context.Context, f market.AdminBookingFilter) ([]market.AdminBooking, string, error) {
	fields := map[string]string{}
	switch f.Status {
	case "", market.BookingConfirmed, market.BookingCancelled, market.BookingCompleted, market.BookingNoShow:
	default:
		fields["status"] = "must be confirmed, cancelled, completed or no_show"
	}
	afterT, afterID := pageCursor(f.Cursor, nil, fields)
	if f.From != nil && f.To != nil && f.From.After(*f.To) {
		fields["from"] = "must not be after to"
	}
	if len(fields) > 0 {
		return nil, "", market.ValidationError(fields)
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	q := nullText(f.Query)
	var like *string
	if q != nil {
		l := "%" + escapeLike(*q) + "%"
		like = &l
	}
	rows, err := db.pool.Query(ctx, `SELECT b.id, b.status, b.student_id, b.instructor_id, b.instructor_service_id,
			b.date, b.start_time, b.end_time, b.price_cents, b.note, lower(b.during), upper(b.during),
			b.created_at, b.cancelled_at, p.timezone,
			su.full_name, iu.full_name, s.name, b.area, b.address, b.late, p.cancellation_notice_hours,
			su.email, iu.email, b.cancel_reason
		FROM bookings b
		JOIN instructor_profiles p ON p.user_id = b.instructor_id
		JOIN users su ON su.id = b.student_id
		JOIN users iu ON iu.id = b.instructor_id
		JOIN instructor_services isv ON isv.id = b.instructor_service_id
		JOIN services s ON s.id = isv.service_id
		WHERE ($1::uuid IS NULL OR b.instructor_id = $1)
		  AND ($2::uuid IS NULL OR b.student_id = $2)
		  AND ($3::text IS NULL OR su.email ILIKE $3 ESCAPE '\' OR su.full_name ILIKE $3 ESCAPE '\'
		       OR iu.email ILIKE $3 ESCAPE '\' OR iu.full_name ILIKE $3 ESCAPE '\')
		  AND ($4::date IS NULL OR b.date >= $4)
		  AND ($5::date IS NULL OR b.date <= $5)
		  AND ($6::text IS NULL OR b.status = $6)
		  AND ($7::timestamptz IS NULL OR (lower(b.during), b.id) < ($7, $8::uuid))
		ORDER BY lower(b.during) DESC, b.id DESC
		LIMIT $9`,
		nullText(f.InstructorID), nullText(f.StudentID), like, f.From, f.To, nullText(f.Status),
		afterT, afterID, f.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("admin bookings: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.AdminBooking, error) {
		var ab market.AdminBooking
		b, err := scanBooking(extraScan{r, []any{&ab.StudentEmail, &ab.InstructorEmail, &ab.CancelReason}})
		if err != nil {
			return market.AdminBooking{}, err
		}
		ab.Booking = *b
		ab.StudentName, ab.InstructorName, ab.ServiceName = b.Student.FullName, b.Instructor.FullName, b.ServiceName
		return ab, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("admin bookings: %w", translate(err))
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = encodeCursor(&out[len(out)-1].Booking)
	}
	return out, next, nil
}

// extraScan lets scanBooking read a row that carries more columns after
// the booking's: they go to extra.
type extraScan struct {
	row   pgx.Row
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// AdminInstructors lists every instructor profile with listing state and,
// for lesson dates in [from, to], open hours (availability windows) and
// booked hours (confirmed or completed lessons), busiest first.
func (db *DB) AdminInstructors(ctx context.Context, from, to time.Time) ([]market.AdminInstructor, error) {
	rows, err := db.pool.Query(ctx, `
		WITH open AS (
			SELECT instructor_id, sum(extract(epoch FROM (end_time - start_time))) / 3600 AS h
			FROM availability_windows WHERE date BETWEEN $1 AND $2 GROUP BY instructor_id),
		booked AS (
			SELECT instructor_id, sum(duration_minutes) / 60.0 AS h, count(*) AS n
			FROM bookings WHERE date BETWEEN $1 AND $2 AND status IN ('confirmed', 'completed')
			GROUP BY instructor_id)
		SELECT u.id, u.full_name, u.email, u.deleted_at IS NULL,
			u.deleted_at IS NULL AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'instructor')
				AND EXISTS (SELECT 1 FROM instructor_services s WHERE s.instructor_id = u.id AND s.is_active),
			(SELECT count(*) FROM instructor_services s WHERE s.instructor_id = u.id AND s.is_active)::int,
			p.areas::text[], COALESCE(o.h, 0)::float8, COALESCE(b.h, 0)::float8,
			CASE WHEN COALESCE(o.h, 0) > 0 THEN COALESCE(b.h, 0)::float8 / o.h::float8 END,
			COALESCE(b.n, 0)::int
		FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		LEFT JOIN open o ON o.instructor_id = p.user_id
		LEFT JOIN booked b ON b.instructor_id = p.user_id
		ORDER BY COALESCE(b.h, 0) DESC, u.full_name, u.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("admin instructors: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[market.AdminInstructor])
	if err != nil {
		return nil, fmt.Errorf("admin instructors: %w", err)
	}
	return out, nil
}
