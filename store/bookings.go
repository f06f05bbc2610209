package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"instainstru/market"
)

// Booking rules, as implemented here:
//
//   - Every write locks the instructor's schedule first (see lockSchedule), so
//     bookings, cancellations, reschedules and availability edits of one
//     instructor run one at a time and each availability.changed event carries
//     the open time as of its own commit.
//   - The Go checks (window, open time) give friendly errors; the exclusion
//     constraints on bookings are the final guard, also for a student booking
//     two instructors at once (those run under different locks).
//   - Only participants (the student, the instructor) and admins see a
//     booking; anyone else gets ENOTFOUND, so ids reveal nothing.

func parseSlot(date, start string, fields map[string]string) (time.Time, market.Clock) {
	d, err := market.ParseDate(date)
	if err != nil {
		fields["date"] = "must be a date YYYY-MM-DD"
	} else {
		beyondHorizon(d, "date", fields)
	}
	c, err := market.ParseClock(start)
	if err != nil {
		fields["start_time"] = "must be a time HH:MM"
	} else if problem := market.StartProblem(c); problem != "" {
		fields["start_time"] = problem
	}
	return d, c
}

// offer is an instructor's offered service as a booking sees it.
type offer struct {
	found bool
	owner string
	svc   market.InstructorService
}

// check returns the validation error of booking minutes of o with
// instructorID, or nil.
func (o offer) check(instructorID string, minutes int) error {
	switch {
	case !o.found || o.owner != instructorID:
		return market.ValidationError(map[string]string{"instructor_service_id": "is not a service of this instructor"})
	case !o.svc.Active:
		return market.ValidationError(map[string]string{"instructor_service_id": "is no longer offered"})
	case !o.svc.AllowsDuration(minutes):
		return market.ValidationError(map[string]string{"duration_minutes": fmt.Sprintf("must be one of %v", o.svc.Durations)})
	}
	return nil
}

// checkSlot reads, under the schedule lock and in one round trip, the
// windows of p's date and the time-blocking lessons of the instructor and
// of the student near it (other than exclude, the booking being moved), and
// decides with market.CheckSlot: ESLOTUNAVAIL when p is outside every
// window or overlaps a lesson of either party.
func checkSlot(ctx context.Context, tx pgx.Tx, instructorID, studentID, exclude string, p market.Placement, loc *time.Location) error {
	var f slotFacts
	b := &pgx.Batch{}
	f.queue(b, instructorID, studentID, exclude, p.Date)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("check slot: %w", err)
	}
	return market.CheckSlot(p, market.SlotFacts(f), loc)
}

// bookingColumns and bookingJoins read a booking as alias b with the
// names of both parties and of the service (SPEC §4.2).
const bookingColumns = `b.id, b.status, b.student_id, b.instructor_id, b.instructor_service_id,
	b.date, b.start_time, b.end_time, b.price_cents, b.note, lower(b.during), upper(b.during),
	b.created_at, b.cancelled_at, p.timezone,
	su.full_name, iu.full_name, sv.name, b.area, b.address, b.late`

const bookingJoins = ` JOIN instructor_profiles p ON p.user_id = b.instructor_id
	JOIN users su ON su.id = b.student_id JOIN users iu ON iu.id = b.instructor_id
	JOIN instructor_services os ON os.id = b.instructor_service_id JOIN services sv ON sv.id = os.service_id`

const bookingSelect = `SELECT ` + bookingColumns + ` FROM bookings b` + bookingJoins

func scanBooking(row pgx.Row) (*market.Booking, error) {
	var (
		b           market.Booking
		date        time.Time
		start, end  pgtype.Time
		cancelledAt *time.Time
		tz          string
	)
	err := row.Scan(&b.ID, &b.Status, &b.StudentID, &b.InstructorID, &b.InstructorServiceID,
		&date, &start, &end, &b.PriceCents, &b.Note, &b.StartsAt, &b.EndsAt, &b.CreatedAt, &cancelledAt, &tz,
		&b.Student.FullName, &b.Instructor.FullName, &b.ServiceName, &b.Location.Area, &b.Location.Address, &b.Late)
	if err != nil {
		return nil, err
	}
	b.Student.ID, b.Instructor.ID = b.StudentID, b.InstructorID
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	b.Date = dateString(date)
	b.StartTime = clockOf(start).String()
	b.EndTime = clockOf(end).String()
	b.StartsAt = b.StartsAt.In(loc)
	b.EndsAt = b.EndsAt.In(loc)
	b.CreatedAt = b.CreatedAt.UTC()
	if cancelledAt != nil {
		t := cancelledAt.UTC()
		b.CancelledAt = &t
	}
	return &b, nil
}

// rowQuerier is what both a pool and a transaction offer for single rows.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func bookingByID(ctx context.Context, q rowQuerier, id string, forUpdate bool) (*market.Booking, error) {
	sql := bookingSelect + ` WHERE b.id = $1`
	if forUpdate {
		sql += ` FOR UPDATE OF b`
	}
	b, err := scanBooking(q.QueryRow(ctx, sql, id))
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "booking not found")
		}
		return nil, fmt.Errorf("read booking: %w", err)
	}
	return b, nil
}

// bookingEvents are the events of a booking change: type to both
// participants (typeForInstructor / typeForStudent) and availability.changed
// for the instructor's changed days, plus extra (the change's notifications).
func bookingEvents(ctx context.Context, tx pgx.Tx, b *market.Booking, typeForInstructor, typeForStudent string, loc *time.Location, days []time.Time, extra ...market.NewEvent) error {
	av, err := availabilityChangedEvent(ctx, tx, b.InstructorID, loc, days)
	if err != nil {
		return err
	}
	_, err = appendEvents(ctx, tx, append([]market.NewEvent{
		{Topic: market.UserTopic(b.InstructorID), Type: typeForInstructor, Data: b},
		{Topic: market.UserTopic(b.StudentID), Type: typeForStudent, Data: b},
		av,
	}, extra...))
	return err
}

// CreateBooking books a lesson instantly, in one transaction: idempotency
// key (if any), schedule lock, offer checks, DST-correct placement, window
// and open-time checks, insert (exclusion constraints as the final guard),
// events. Returns EVALIDATION for invalid input (nonexistent local time,
// less than market.MinNotice ahead, inactive or foreign offer, duration not
// offered), ESLOTUNAVAIL when the time is not open, EIDEMPOTENCY when the key
// was used for a different request. A replay writes nothing.
func (db *DB) CreateBooking(ctx context.Context, nb market.NewBooking) (*market.BookingResult, error) {
	fields := map[string]string{}
	date, start := parseSlot(nb.Date, nb.StartTime, fields)
	if !market.ValidDuration(nb.DurationMinutes) {
		fields["duration_minutes"] = market.DurationRule()
	}
	if len(nb.Note) > market.MaxNoteLen {
		fields["note"] = fmt.Sprintf("must be at most %d characters", market.MaxNoteLen)
	}
	nb.Area, nb.Address = checkLocation(fields, nb.Area, nb.Address)
	if len(nb.IdempotencyKey) > market.MaxIdempotencyKeyLen {
		fields["idempotency_key"] = fmt.Sprintf("must be at most %d characters", market.MaxIdempotencyKeyLen)
	}
	if nb.StudentID == nb.InstructorID {
		fields["instructor_id"] = "you cannot book a lesson with yourself"
	}
	if len(fields) > 0 {
		return nil, market.ValidationError(fields)
	}
	hash := requestHash("POST /bookings", nb.InstructorID, nb.InstructorServiceID, nb.Date, nb.StartTime,
		strconv.Itoa(nb.DurationMinutes), nb.Note, nb.Area, addressKey(nb.Address))
	var res *market.BookingResult
	err := db.inScheduleTx(ctx, nb.InstructorID, func(tx pgx.Tx) error {
		var err error
		res, err = db.createBookingTx(ctx, tx, nb, date, start, hash)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// participates reports whether actor may see b: its student, its
// instructor, or a holder of bookings:read_any.
func participates(actor *market.User, b *market.Booking) bool {
	return actor.ID == b.StudentID || actor.ID == b.InstructorID || actor.Can(market.PermBookingsReadAny)
}

// mayChange reports whether actor may cancel or reschedule b: its student,
// its instructor, or a holder of bookings:manage_any.
func mayChange(actor *market.User, b *market.Booking) bool {
	return actor.ID == b.StudentID || actor.ID == b.InstructorID || actor.Can(market.PermBookingsManageAny)
}

// Booking returns one booking to a participant or admin; ENOTFOUND for
// anyone else (existence is not revealed).
func (db *DB) Booking(ctx context.Context, actor *market.User, id string) (*market.Booking, error) {
	b, err := bookingByID(ctx, db.pool, id, false)
	if err != nil {
		return nil, translate(err)
	}
	if !participates(actor, b) {
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	return b, nil
}

// changeRefusal is why actor may not change the booking of student with
// instructor: EFORBIDDEN for a participant who may only read it (an admin
// with read but not manage rights), ENOTFOUND for anyone else (existence
// is not revealed); nil when actor may change it.
func changeRefusal(actor *market.User, student, instructor string) error {
	who := &market.Booking{StudentID: student, InstructorID: instructor}
	switch {
	case mayChange(actor, who):
		return nil
	case participates(actor, who):
		return market.Errorf(market.EFORBIDDEN, "you may read this booking but not change it")
	}
	return market.Errorf(market.ENOTFOUND, "booking not found")
}

// lockBooking takes the schedule lock of the booking's instructor, then the
// booking row, and checks that actor may change it and that it is still a
// confirmed lesson that has not started.
func lockBooking(ctx context.Context, tx pgx.Tx, actor *market.User, id string, now time.Time) (*market.Booking, *time.Location, error) {
	var student, instructor string
	err := tx.QueryRow(ctx, `SELECT student_id, instructor_id FROM bookings WHERE id = $1`, id).Scan(&student, &instructor)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, nil, market.Errorf(market.ENOTFOUND, "booking not found")
		}
		return nil, nil, fmt.Errorf("read booking: %w", err)
	}
	if err := changeRefusal(actor, student, instructor); err != nil {
		return nil, nil, err
	}
	loc, err := lockSchedule(ctx, tx, instructor)
	if err != nil {
		return nil, nil, err
	}
	b, err := bookingByID(ctx, tx, id, true)
	if err != nil {
		return nil, nil, err
	}
	if err := market.CheckChangeable(b, now); err != nil {
		return nil, nil, err
	}
	return b, loc, nil
}

// CancelBooking cancels a confirmed lesson that has not started, freeing its
// time. The student, the instructor or an admin may cancel. Returns
// ENOTFOUND for others, ECONFLICT when it is not confirmed or already
// started. Its events: booking.cancelled to both participants,
// availability.changed for its day.
func (db *DB) CancelBooking(ctx context.Context, actor *market.User, id, reason string, now func() time.Time) (*market.Booking, error) {
	if len(reason) > market.MaxNoteLen {
		return nil, market.ValidationError(map[string]string{"reason": fmt.Sprintf("must be at most %d characters", market.MaxNoteLen)})
	}
	var b *market.Booking
	err := db.inBookingTx(ctx, id, func(tx pgx.Tx) error {
		var err error
		b, err = db.cancelBookingTx(ctx, tx, actor, id, reason, nowFunc(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// RescheduleBooking moves a confirmed lesson that has not started to a new
// date and start time, keeping its service, duration and price. The move is
// atomic: either the lesson is at the new time or nothing changed. The new
// time passes the same checks as a new booking (DST, notice, window, open
// time, the student's other lessons), ignoring the lesson itself. Moving to
// its current time changes nothing and appends no events (moved is false).
func (db *DB) RescheduleBooking(ctx context.Context, actor *market.User, id, date, startTime string, now func() time.Time) (b *market.Booking, moved bool, err error) {
	fields := map[string]string{}
	d, start := parseSlot(date, startTime, fields)
	if len(fields) > 0 {
		return nil, false, market.ValidationError(fields)
	}
	err = db.inBookingTx(ctx, id, func(tx pgx.Tx) error {
		moved = false
		t := nowFunc(now)
		cur, loc, err := lockBooking(ctx, tx, actor, id, t)
		if err != nil {
			return err
		}
		if cur.Date == dateString(d) && cur.StartTime == start.String() {
			b = cur
			return nil
		}
		if actor.ID == cur.StudentID {
			if err := checkNotice(ctx, tx, cur, t); err != nil {
				return err
			}
		}
		minutes := int(cur.EndsAt.Sub(cur.StartsAt) / time.Minute)
		p, err := market.Place(d, start, minutes, loc, t)
		if err != nil {
			return err
		}
		if err := checkSlot(ctx, tx, cur.InstructorID, cur.StudentID, id, p, loc); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET date = $2, start_time = $3, end_time = $4,
			during = tstzrange($5, $6, '[)'), updated_at = now() WHERE id = $1`,
			id, p.Date, pgClock(p.Start), pgClock(p.End), p.StartsAt, p.EndsAt); err != nil {
			return fmt.Errorf("reschedule booking: %w", err)
		}
		if b, err = bookingByID(ctx, tx, id, false); err != nil {
			return err
		}
		old, _ := market.ParseDate(cur.Date)
		notes, err := db.notifyBooking(ctx, tx, market.NotifyBookingRescheduled, actor.ID, b, t)
		if err != nil {
			return err
		}
		moved = true
		return bookingEvents(ctx, tx, b, market.EventBookingRescheduled, market.EventBookingRescheduled, loc, []time.Time{old, p.Date}, notes...)
	})
	if err != nil {
		return nil, false, err
	}
	return b, moved, nil
}

func encodeCursor(b *market.Booking) string {
	return base64.RawURLEncoding.EncodeToString([]byte(b.StartsAt.UTC().Format(time.RFC3339Nano) + "|" + b.ID))
}

// pageCursor validates a page's cursor (and limit, when limit is not nil:
// 0 means 20, else 1..100) for the keyset queries, recording what is wrong
// in fields. It returns the position after which the page starts (nil, nil
// for the first page).
func pageCursor(cursor string, limit *int, fields map[string]string) (*time.Time, *string) {
	if limit != nil {
		if *limit == 0 {
			*limit = 20
		}
		if *limit < 1 || *limit > 100 {
			fields["limit"] = "must be between 1 and 100"
		}
	}
	if cursor == "" {
		return nil, nil
	}
	t, id, err := decodeCursor(cursor)
	if err != nil {
		fields["cursor"] = "is not a cursor from a previous page"
		return nil, nil
	}
	return &t, &id
}

func decodeCursor(s string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", fmt.Errorf("no separator")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", err
	}
	if _, err := parseUUID(id); err != nil {
		return time.Time{}, "", err
	}
	return t, id, nil
}

// parseUUID checks that s is a UUID.
func parseUUID(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	err := u.Scan(s)
	return u, err
}

// Bookings lists the actor's lessons: a student's own bookings, an
// instructor's bookings with them, or every booking for an admin. It
// returns the page and the cursor of the next one ("" at the end).
func (db *DB) Bookings(ctx context.Context, actor *market.User, q market.BookingQuery) ([]market.Booking, string, error) {
	fields := map[string]string{}
	if q.Scope == "" {
		q.Scope = market.ScopeUpcoming
	}
	if q.Scope != market.ScopeUpcoming && q.Scope != market.ScopePast {
		fields["scope"] = "must be upcoming or past"
	}
	afterT, afterID := pageCursor(q.Cursor, &q.Limit, fields)
	if len(fields) > 0 {
		return nil, "", market.ValidationError(fields)
	}
	who := `$1::uuid IS NOT NULL`
	switch {
	case actor.Can(market.PermBookingsReadAny):
	case actor.HasRole(market.RoleInstructor):
		who = `b.instructor_id = $1`
	default:
		who = `b.student_id = $1`
	}
	upcoming := `b.status = 'confirmed' AND upper(b.during) > $2`
	var sql string
	if q.Scope == market.ScopeUpcoming {
		sql = bookingSelect + ` WHERE ` + who + ` AND ` + upcoming + `
			AND ($3::timestamptz IS NULL OR (lower(b.during), b.id) > ($3, $4::uuid))
			ORDER BY lower(b.during), b.id LIMIT $5`
	} else {
		sql = bookingSelect + ` WHERE ` + who + ` AND NOT (` + upcoming + `)
			AND ($3::timestamptz IS NULL OR (lower(b.during), b.id) < ($3, $4::uuid))
			ORDER BY lower(b.during) DESC, b.id DESC LIMIT $5`
	}
	rows, err := db.pool.Query(ctx, sql, actor.ID, nowFunc(q.Now), afterT, afterID, q.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list bookings: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Booking, error) {
		b, err := scanBooking(r)
		if err != nil {
			return market.Booking{}, err
		}
		return *b, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list bookings: %w", translate(err))
	}
	next := ""
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = encodeCursor(&out[len(out)-1])
	}
	return out, next, nil
}
