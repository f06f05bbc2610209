package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"instainstru/market"
)

// Booking and cancellation in few round trips. Every statement of a
// schedule write runs while the instructor's schedule lock is held, so each
// round trip under it is time no other writer of that instructor can use.
// A new booking therefore takes five round trips (BEGIN and COMMIT
// included), not fourteen:
//
//  1. one batch that claims the idempotency key, takes the schedule lock,
//     and then (same batch, so after the lock is granted: each statement of
//     a READ COMMITTED batch sees what committed before it started) reads
//     everything the checks and the answer need: the instructor's role
//     (FOR SHARE), the offer, both parties' names and notification
//     settings, the day's windows, the instructor's bookings around the day
//     and the student's confirmed lessons around the slot;
//  2. the checks run in Go on those rows, the booking row and its JSON
//     answer are built in Go (id from uuid, created_at = the transaction's
//     now() read in step 1), and the day's open time is computed from the
//     rows already read plus the new lesson;
//  3. one batch with every write: the booking, the idempotent answer, the
//     notifications and their email rows, and the events (outbox, last);
//  4. River's insert of the email and reminder jobs (InsertManyTx: one
//     statement for all of them);
//
// then COMMIT. The database still enforces what it enforced: the exclusion
// constraints on bookings (the Go overlap checks only give the friendlier
// error first), the live-student trigger, the role row lock and the
// schedule lock; the events are in the same transaction as the rows.

// nearBooking is a non-cancelled booking of the instructor near a slot.
type nearBooking struct {
	date             time.Time
	start            market.Clock
	startsAt, endsAt time.Time
	confirmed        bool
}

// nearRange is a range of start instants that holds every booking of date
// (in any zone) and every lesson (at most 8 hours) overlapping one on date.
func nearRange(date time.Time) (time.Time, time.Time) {
	return addDays(date, -2), addDays(date, 3)
}

func overlaps(aStart, aEnd, bStart, bEnd time.Time) bool {
	return aStart.Before(bEnd) && bStart.Before(aEnd)
}

// openOf is the open time of a day with these windows (sorted) and busy
// spans (any order).
func openOf(windows, busy []span) []market.Interval {
	sort.Slice(busy, func(i, j int) bool { return busy[i][0] < busy[j][0] })
	return toIntervals(market.Subtract(windows, busy))
}

// queueSpans queues sql (rows of two time columns) and appends them to out.
func queueSpans(b *pgx.Batch, out *[]span, what, sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var s, e pgtype.Time
		_, err := pgx.ForEachRow(rows, []any{&s, &e}, func() error {
			*out = append(*out, span{clockOf(s), clockOf(e)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		return nil
	})
}

// createBookingTx is CreateBooking's transaction (see the comment above).
func (db *DB) createBookingTx(ctx context.Context, tx pgx.Tx, nb market.NewBooking, date time.Time, start market.Clock, hash []byte) (*market.BookingResult, error) {
	var (
		claimed                  = true
		storedHash, storedBody   []byte
		locked, isInstructor     bool
		tz                       string
		areas                    []string
		txNow, clock             time.Time
		o                        offer
		f                        lessonFacts
		windows                  []span
		near                     []nearBooking
		studentLessons           [][2]time.Time
		lo, hi                   = nearRange(date)
		b                        = &pgx.Batch{}
		settingsStudentColumns   = fmt.Sprintf(settingsColumns, "ss")
		studentName, teacherName string
	)
	if nb.IdempotencyKey != "" {
		b.Queue(claimIdempotencyKeySQL, nb.StudentID, nb.IdempotencyKey, hash).Exec(func(ct pgconn.CommandTag) error {
			claimed = ct.RowsAffected() == 1
			return nil
		})
		b.Queue(readIdempotencyKeySQL, nb.StudentID, nb.IdempotencyKey).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&storedHash, &storedBody); err != nil {
				return fmt.Errorf("read idempotency key: %w", err)
			}
			return nil
		})
	}
	b.Queue(`SELECT p.timezone, p.areas, now(), clock_timestamp() FROM instructor_profiles p
		JOIN users u ON u.id = p.user_id WHERE p.user_id = $1 AND u.deleted_at IS NULL FOR UPDATE OF p`,
		nb.InstructorID).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&tz, &areas, &txNow, &clock), &locked, "lock instructor schedule")
	})
	b.Queue(instructorRoleLockSQL, nb.InstructorID, market.RoleInstructor).QueryRow(func(row pgx.Row) error {
		var one int
		return noRowOK(row.Scan(&one), &isInstructor, "check instructor role")
	})
	b.Queue(`SELECT os.instructor_id, os.hourly_rate_cents, os.durations, os.is_active, sv.name
		FROM instructor_services os JOIN services sv ON sv.id = os.service_id WHERE os.id = $1`,
		nb.InstructorServiceID).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&o.owner, &o.svc.HourlyRateCents, &o.svc.Durations, &o.svc.Active, &f.service), &o.found, "read offer")
	})
	b.Queue(`SELECT su.full_name, iu.full_name, `+settingsStudentColumns+`, `+fmt.Sprintf(settingsColumns, "si")+`
		FROM users su JOIN users iu ON iu.id = $2
		LEFT JOIN notification_settings ss ON ss.user_id = su.id
		LEFT JOIN notification_settings si ON si.user_id = iu.id
		WHERE su.id = $1`, nb.StudentID, nb.InstructorID).QueryRow(func(row pgx.Row) error {
		var found bool // a missing student is refused by the insert's trigger
		return noRowOK(row.Scan(append([]any{&studentName, &teacherName}, f.settingsDest()...)...), &found, "read lesson facts")
	})
	queueSpans(b, &windows, "windows", `SELECT start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND date = $2 ORDER BY start_time`, nb.InstructorID, date)
	// Completed and no-show lessons keep their time taken (as readSchedule).
	b.Queue(`SELECT date, start_time, lower(during), upper(during), status = 'confirmed' FROM bookings
		WHERE instructor_id = $1 AND status <> 'cancelled' AND lower(during) >= $2 AND lower(during) < $3`,
		nb.InstructorID, lo, hi).Query(func(rows pgx.Rows) error {
		var (
			n  nearBooking
			st pgtype.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&n.date, &st, &n.startsAt, &n.endsAt, &n.confirmed}, func() error {
			n.start = clockOf(st)
			near = append(near, n)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read bookings: %w", err)
		}
		return nil
	})
	b.Queue(`SELECT lower(during), upper(during) FROM bookings
		WHERE student_id = $1 AND status = 'confirmed' AND lower(during) >= $2 AND lower(during) < $3`,
		nb.StudentID, lo, hi).Query(func(rows pgx.Rows) error {
		var s, e time.Time
		_, err := pgx.ForEachRow(rows, []any{&s, &e}, func() error {
			studentLessons = append(studentLessons, [2]time.Time{s, e})
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the student's lessons: %w", err)
		}
		return nil
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}

	// The checks, in the order of the friendlier errors.
	if !claimed {
		stored, err := storedAnswer(storedHash, hash, storedBody)
		if err != nil {
			return nil, err
		}
		var bk market.Booking
		if err := json.Unmarshal(stored.Body, &bk); err != nil {
			return nil, fmt.Errorf("decode stored response: %w", err)
		}
		return &market.BookingResult{Booking: &bk, Replay: true}, nil
	}
	if !locked {
		return nil, market.ValidationError(map[string]string{"instructor_id": "no such instructor"})
	}
	if !isInstructor {
		return nil, market.Errorf(market.ENOTFOUND, "instructor not found")
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	now := nowFunc(nb.Now)
	p, err := place(date, start, nb.DurationMinutes, loc, now)
	if err != nil {
		return nil, err
	}
	if err := o.check(nb.InstructorID, nb.DurationMinutes); err != nil {
		return nil, err
	}
	inside := false
	for _, w := range windows {
		if !p.startsAt.Before(wallInstant(p.date, w[0], loc)) && !p.endsAt.After(wallInstant(p.date, w[1], loc)) {
			inside = true
		}
	}
	if !inside {
		return nil, market.Errorf(market.ESLOTUNAVAIL, "the instructor is not available at that time")
	}
	busy := []span{busySpan(p.date, p.start, p.startsAt, p.endsAt, loc)}
	for _, n := range near {
		if n.confirmed && overlaps(n.startsAt, n.endsAt, p.startsAt, p.endsAt) {
			return nil, &market.Error{Code: market.ESLOTUNAVAIL, Message: slotMessage("bookings_instructor_no_overlap")}
		}
		if n.date.Equal(p.date) {
			busy = append(busy, busySpan(n.date, n.start, n.startsAt, n.endsAt, loc))
		}
	}
	for _, l := range studentLessons {
		if overlaps(l[0], l[1], p.startsAt, p.endsAt) {
			return nil, &market.Error{Code: market.ESLOTUNAVAIL, Message: slotMessage("bookings_student_no_overlap")}
		}
	}
	area, err := pickArea(areas, nb.Area)
	if err != nil {
		return nil, err
	}

	// The answer, as bookingSelect would read it back after the insert.
	bk := &market.Booking{ID: uuid.NewString(), Status: market.BookingConfirmed,
		StudentID: nb.StudentID, InstructorID: nb.InstructorID, InstructorServiceID: nb.InstructorServiceID,
		Date: dateString(p.date), StartTime: p.start.String(), EndTime: p.end.String(),
		PriceCents: o.svc.PriceCents(nb.DurationMinutes), Note: nb.Note,
		StartsAt: p.startsAt.In(loc), EndsAt: p.endsAt.In(loc), CreatedAt: txNow.UTC(),
		Student:     market.Party{ID: nb.StudentID, FullName: studentName},
		Instructor:  market.Party{ID: nb.InstructorID, FullName: teacherName},
		ServiceName: f.service, Location: market.Location{Area: area, Address: nb.Address}}
	f.studentName, f.instructorName, f.area = studentName, teacherName, area

	w := &pgx.Batch{}
	w.Queue(`INSERT INTO bookings (id, student_id, instructor_id, instructor_service_id, date, start_time,
		end_time, duration_minutes, price_cents, note, during, area, address, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, tstzrange($11, $12, '[)'), $13, $14, $15)`,
		bk.ID, nb.StudentID, nb.InstructorID, nb.InstructorServiceID, p.date, pgClock(p.start), pgClock(p.end),
		nb.DurationMinutes, bk.PriceCents, nb.Note, p.startsAt, p.endsAt, area, nb.Address, txNow).Exec(
		func(pgconn.CommandTag) error { return nil })
	if nb.IdempotencyKey != "" {
		body, err := json.Marshal(bk)
		if err != nil {
			return nil, fmt.Errorf("encode booking: %w", err)
		}
		w.Queue(saveIdempotentResponseSQL, nb.StudentID, nb.IdempotencyKey, body)
	}
	ws, reminders := bookingNotes(market.NotifyBookingCreated, nb.StudentID, bk, f, now)
	notes, emails := queueNotifications(w, ws, &clock)
	evs := append([]market.NewEvent{
		{Topic: market.UserTopic(bk.InstructorID), Type: market.EventBookingCreated, Data: bk},
		{Topic: market.UserTopic(bk.StudentID), Type: market.EventBookingConfirmed, Data: bk},
		availabilityChangedOf(bk.InstructorID, p.date, openOf(windows, busy)),
	}, notes...)
	q, err := queueEvents(tx, w, evs)
	if err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, w).Close(); err != nil {
		return nil, fmt.Errorf("insert booking: %w", err)
	}
	q.done()
	if err := db.jobs.InsertTx(ctx, tx, append(*emails, reminders...)...); err != nil {
		return nil, err
	}
	return &market.BookingResult{Booking: bk}, nil
}

// noRowOK is a Scan error as a batch callback sees it: no row sets *found
// false and is no error; any other error is wrapped with what.
func noRowOK(err error, found *bool, what string) error {
	*found = err == nil
	if err != nil && market.ErrorCode(translate(err)) != market.ENOTFOUND {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// availabilityChangedOf is the availability.changed event of one day.
func availabilityChangedOf(instructorID string, date time.Time, open []market.Interval) market.NewEvent {
	return market.NewEvent{
		Topic: market.AvailabilityTopic(instructorID),
		Type:  market.EventAvailabilityChanged,
		Data: market.AvailabilityChanged{InstructorID: instructorID,
			Days: []market.OpenDay{{Date: dateString(date), Open: open}}},
	}
}

// cancelBookingTx is CancelBooking inside tx (account deletion cancels
// many lessons in its own transaction): one batch takes the schedule lock
// and the booking's row lock and reads what the checks, the notifications
// and the day's open time need; one batch writes the change, its
// notifications and its events; River queues the emails. An admin
// cancelling someone else's lesson is written to the audit trail in the
// same transaction.
func (db *DB) cancelBookingTx(ctx context.Context, tx pgx.Tx, actor *market.User, id, reason string, now time.Time) (*market.Booking, error) {
	var (
		student, instructor       string
		found, locked             bool
		tz                        string
		notice                    int
		txNow, clock              time.Time
		cur                       *market.Booking
		f                         lessonFacts
		windows                   []span
		others                    []nearBooking
		b                         = &pgx.Batch{}
		settingsFound, curFound   bool
		settingsStudent, settingI = fmt.Sprintf(settingsColumns, "ss"), fmt.Sprintf(settingsColumns, "si")
	)
	b.Queue(`SELECT student_id, instructor_id FROM bookings WHERE id = $1`, id).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&student, &instructor), &found, "read booking")
	})
	b.Queue(`SELECT p.timezone, p.cancellation_notice_hours, now(), clock_timestamp() FROM instructor_profiles p
		JOIN users u ON u.id = p.user_id
		WHERE p.user_id = (SELECT instructor_id FROM bookings WHERE id = $1) AND u.deleted_at IS NULL
		FOR UPDATE OF p`, id).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&tz, &notice, &txNow, &clock), &locked, "lock instructor schedule")
	})
	b.Queue(bookingSelect+` WHERE b.id = $1 FOR UPDATE OF b`, id).QueryRow(func(row pgx.Row) error {
		var err error
		cur, err = scanBooking(row)
		return noRowOK(err, &curFound, "read booking")
	})
	b.Queue(`SELECT `+settingsStudent+`, `+settingI+` FROM bookings b
		LEFT JOIN notification_settings ss ON ss.user_id = b.student_id
		LEFT JOIN notification_settings si ON si.user_id = b.instructor_id
		WHERE b.id = $1`, id).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(f.settingsDest()...), &settingsFound, "read lesson facts")
	})
	queueSpans(b, &windows, "windows", `SELECT w.start_time, w.end_time FROM bookings b
		JOIN availability_windows w ON w.instructor_id = b.instructor_id AND w.date = b.date
		WHERE b.id = $1 ORDER BY w.start_time`, id)
	b.Queue(`SELECT o.date, o.start_time, lower(o.during), upper(o.during) FROM bookings b
		JOIN bookings o ON o.instructor_id = b.instructor_id AND o.date = b.date
			AND o.status <> 'cancelled' AND o.id <> b.id
		WHERE b.id = $1`, id).Query(func(rows pgx.Rows) error {
		var (
			n  nearBooking
			st pgtype.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&n.date, &st, &n.startsAt, &n.endsAt}, func() error {
			n.start = clockOf(st)
			others = append(others, n)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read bookings: %w", err)
		}
		return nil
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}

	// The checks of lockBooking, in its order.
	if !found {
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	if who := (&market.Booking{StudentID: student, InstructorID: instructor}); !mayChange(actor, who) {
		if participates(actor, who) {
			return nil, market.Errorf(market.EFORBIDDEN, "you may read this booking but not change it")
		}
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	if !locked {
		return nil, market.Errorf(market.ENOTFOUND, "instructor not found")
	}
	if !curFound {
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	if cur.Status != market.BookingConfirmed {
		return nil, market.Errorf(market.ECONFLICT, "booking is %s", cur.Status)
	}
	if !cur.StartsAt.After(now) {
		return nil, market.Errorf(market.ECONFLICT, "lesson has already started")
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	if actor.ID != cur.StudentID && actor.ID != cur.InstructorID {
		if err := auditTx(ctx, tx, market.AuditAdminCancelled, cur.StudentID, map[string]any{
			"booking_id": id, "instructor_id": cur.InstructorID}); err != nil {
			return nil, err
		}
	}
	// A student's cancellation inside the instructor's notice is allowed
	// but marked late, so the instructor is told (booking.cancelled
	// carries late:true).
	late := actor.ID == cur.StudentID && cur.StartsAt.Add(-time.Duration(notice)*time.Hour).Before(now)
	bk := *cur
	cancelledAt := txNow.UTC() // cancelled_at = now(), the transaction's
	bk.Status, bk.CancelledAt, bk.Late = market.BookingCancelled, &cancelledAt, late
	f.studentName, f.instructorName, f.service, f.area = bk.Student.FullName, bk.Instructor.FullName, bk.ServiceName, bk.Location.Area

	d, _ := market.ParseDate(cur.Date)
	busy := make([]span, 0, len(others))
	for _, n := range others {
		busy = append(busy, busySpan(n.date, n.start, n.startsAt, n.endsAt, loc))
	}
	w := &pgx.Batch{}
	w.Queue(`UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2,
		cancel_reason = $3, updated_at = now(), late = $4 WHERE id = $1`, id, actor.ID, reason, late).Exec(
		func(pgconn.CommandTag) error { return nil })
	ws, _ := bookingNotes(market.NotifyBookingCancelled, actor.ID, &bk, f, now)
	notes, emails := queueNotifications(w, ws, &clock)
	evs := append([]market.NewEvent{
		{Topic: market.UserTopic(bk.InstructorID), Type: market.EventBookingCancelled, Data: &bk},
		{Topic: market.UserTopic(bk.StudentID), Type: market.EventBookingCancelled, Data: &bk},
		availabilityChangedOf(bk.InstructorID, d, openOf(windows, busy)),
	}, notes...)
	q, err := queueEvents(tx, w, evs)
	if err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, w).Close(); err != nil {
		return nil, fmt.Errorf("cancel booking: %w", err)
	}
	q.done()
	if err := db.jobs.InsertTx(ctx, tx, *emails...); err != nil {
		return nil, err
	}
	return &bk, nil
}
