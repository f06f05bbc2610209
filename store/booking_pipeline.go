package store

import (
	"context"
	"encoding/json"
	"fmt"
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
//     (FOR SHARE) and whether their email is verified, the offer, both parties' names and notification
//     settings, the day's windows and both parties' time-blocking lessons
//     around the day (blocksTimeSQL; slotFacts.queue, which reschedule
//     shares);
//  2. the decisions of package market run on those rows (market.Place,
//     market.CheckSlot, market.OpenTime), the booking row and its JSON
//     answer are built in Go (id from uuid, created_at = the transaction's
//     now() read in step 1), and the day's open time is computed from the
//     rows already read plus the new lesson;
//  3. one batch with every write: the booking, the idempotent answer, the
//     notifications and their email rows, and the events (outbox, last);
//  4. River's insert of the email and reminder jobs (InsertManyTx: one
//     statement for all of them);
//
// then COMMIT. Reschedule (checkSlot) and cancel read and decide the same
// way. The database still enforces what it enforced: the exclusion
// constraints on bookings (the Go overlap checks only give the friendlier
// error first), the live-student trigger, the role row lock and the
// schedule lock; the events are in the same transaction as the rows.

// nearRange is a range of start instants that holds every booking of date
// (in any zone) and every lesson (at most 8 hours) overlapping one on date.
func nearRange(date time.Time) (time.Time, time.Time) {
	return addDays(date, -2), addDays(date, 3)
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

// queueLessons queues sql (rows of date, start_time, lower(during),
// upper(during)) and appends them to out.
func queueLessons(b *pgx.Batch, out *[]market.Lesson, what, sql string, args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var (
			l  market.Lesson
			st pgtype.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&l.Date, &st, &l.StartsAt, &l.EndsAt}, func() error {
			l.Start = clockOf(st)
			*out = append(*out, l)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		return nil
	})
}

// lessonsNearSQL reads the time-blocking lessons of one party ($1 names the
// column who) starting in [$2, $3), other than the booking $4 (NULL: none).
func lessonsNearSQL(who string) string {
	return `SELECT date, start_time, lower(during), upper(during) FROM bookings
		WHERE ` + who + ` = $1 AND ` + blocksTimeSQL("") + ` AND lower(during) >= $2 AND lower(during) < $3
		AND ($4::uuid IS NULL OR id <> $4)`
}

// createFacts is everything createBookingTx reads in its first batch.
type createFacts struct {
	idempotencyClaim
	locked, isInstructor     bool
	verified                 bool // the instructor's email address is verified
	tz                       string
	areas                    []string
	txNow, clock             time.Time
	o                        offer
	f                        lessonFacts
	studentName, teacherName string
	slot                     slotFacts
}

// queue queues the first batch of a new booking: the idempotency claim,
// the schedule lock, then the facts (see the comment above).
func (c *createFacts) queue(b *pgx.Batch, nb market.NewBooking, date time.Time, hash []byte) {
	c.idempotencyClaim.queue(b, nb.StudentID, nb.IdempotencyKey, hash)
	b.Queue(`SELECT p.timezone, p.areas, now(), clock_timestamp(), u.email_verified_at IS NOT NULL
		FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND u.deleted_at IS NULL FOR UPDATE OF p`,
		nb.InstructorID).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&c.tz, &c.areas, &c.txNow, &c.clock, &c.verified), &c.locked, "lock instructor schedule")
	})
	b.Queue(instructorRoleLockSQL, nb.InstructorID, market.RoleInstructor).QueryRow(func(row pgx.Row) error {
		var one int
		return noRowOK(row.Scan(&one), &c.isInstructor, "check instructor role")
	})
	b.Queue(`SELECT os.instructor_id, os.hourly_rate_cents, os.durations, os.is_active, sv.name
		FROM instructor_services os JOIN services sv ON sv.id = os.service_id WHERE os.id = $1`,
		nb.InstructorServiceID).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&c.o.owner, &c.o.svc.HourlyRateCents, &c.o.svc.Durations, &c.o.svc.Active, &c.f.service), &c.o.found, "read offer")
	})
	b.Queue(`SELECT su.full_name, iu.full_name, `+fmt.Sprintf(settingsColumns, "ss")+`, `+fmt.Sprintf(settingsColumns, "si")+`
		FROM users su JOIN users iu ON iu.id = $2
		LEFT JOIN notification_settings ss ON ss.user_id = su.id
		LEFT JOIN notification_settings si ON si.user_id = iu.id
		WHERE su.id = $1`, nb.StudentID, nb.InstructorID).QueryRow(func(row pgx.Row) error {
		var found bool // a missing student is refused by the insert's trigger
		return noRowOK(row.Scan(append([]any{&c.studentName, &c.teacherName}, c.f.settingsDest()...)...), &found, "read lesson facts")
	})
	c.slot.queue(b, nb.InstructorID, nb.StudentID, "", date)
}

// queue reads, in a caller's batch after the schedule lock, the windows of
// date and the time-blocking lessons of both parties near it, other than
// the booking exclude ("" for none).
func (s *slotFacts) queue(b *pgx.Batch, instructorID, studentID, exclude string, date time.Time) {
	var excl *string
	if exclude != "" {
		excl = &exclude
	}
	lo, hi := nearRange(date)
	queueSpans(b, &s.Windows, "windows", `SELECT start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND date = $2 ORDER BY start_time`, instructorID, date)
	// Completed and no-show lessons keep their time taken (as readSchedule).
	queueLessons(b, &s.Instructor, "bookings", lessonsNearSQL("instructor_id"), instructorID, lo, hi, excl)
	queueLessons(b, &s.Student, "the student's lessons", lessonsNearSQL("student_id"), studentID, lo, hi, excl)
}

// slotFacts is market.SlotFacts with the store's read of them.
type slotFacts market.SlotFacts

// decide runs the checks on the facts, in the order of the friendlier
// errors, and returns the placement, the zone and the lesson's area.
func (c *createFacts) decide(nb market.NewBooking, date time.Time, start market.Clock, now time.Time) (market.Placement, *time.Location, string, error) {
	var p market.Placement
	if err := market.CheckInstructor(market.InstructorFacts{
		Live: c.locked, IsInstructor: c.isInstructor, Verified: c.verified,
		AllowUnverified: nb.AllowUnverifiedInstructor}); err != nil {
		return p, nil, "", err
	}
	loc, err := loadZone(c.tz)
	if err != nil {
		return p, nil, "", err
	}
	if p, err = market.Place(date, start, nb.DurationMinutes, loc, now); err != nil {
		return p, nil, "", err
	}
	if err := c.o.check(nb.InstructorID, nb.DurationMinutes); err != nil {
		return p, nil, "", err
	}
	if err := market.CheckSlot(p, market.SlotFacts(c.slot), loc); err != nil {
		return p, nil, "", err
	}
	area, err := pickArea(c.areas, nb.Area)
	return p, loc, area, err
}

// booking is the answer, as bookingSelect would read it back after the
// insert.
func (c *createFacts) booking(nb market.NewBooking, p market.Placement, loc *time.Location, area string) *market.Booking {
	c.f.studentName, c.f.instructorName, c.f.area = c.studentName, c.teacherName, area
	return &market.Booking{ID: uuid.NewString(), Status: market.BookingConfirmed,
		StudentID: nb.StudentID, InstructorID: nb.InstructorID, InstructorServiceID: nb.InstructorServiceID,
		Date: dateString(p.Date), StartTime: p.Start.String(), EndTime: p.End.String(),
		PriceCents: c.o.svc.PriceCents(nb.DurationMinutes), Note: nb.Note,
		StartsAt: p.StartsAt.In(loc), EndsAt: p.EndsAt.In(loc), CreatedAt: c.txNow.UTC(),
		Student:     market.Party{ID: nb.StudentID, FullName: c.studentName},
		Instructor:  market.Party{ID: nb.InstructorID, FullName: c.teacherName},
		ServiceName: c.f.service, Location: market.Location{Area: area, Address: nb.Address}}
}

// replayBooking is the stored answer of a claimed idempotency key.
func replayBooking(storedHash, hash, storedBody []byte) (*market.BookingResult, error) {
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

// createBookingTx is CreateBooking's transaction (see the comment above).
func (db *DB) createBookingTx(ctx context.Context, tx pgx.Tx, nb market.NewBooking, date time.Time, start market.Clock, hash []byte) (*market.BookingResult, error) {
	var c createFacts
	b := &pgx.Batch{}
	c.queue(b, nb, date, hash)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if !c.claimed {
		return replayBooking(c.storedHash, hash, c.storedBody)
	}
	now := nowFunc(nb.Now)
	p, loc, area, err := c.decide(nb, date, start, now)
	if err != nil {
		return nil, err
	}
	bk := c.booking(nb, p, loc, area)
	open := market.OpenTime(p.Date, c.slot.Windows, append(c.slot.Instructor, p.Lesson()), loc)
	if err := db.writeBooking(ctx, tx, nb, &c, p, bk, open, now); err != nil {
		return nil, err
	}
	return &market.BookingResult{Booking: bk}, nil
}

// writeBooking is the second batch of a new booking (the row, the
// idempotent answer, the notifications, the events) and River's jobs.
func (db *DB) writeBooking(ctx context.Context, tx pgx.Tx, nb market.NewBooking, c *createFacts, p market.Placement, bk *market.Booking, open []market.Interval, now time.Time) error {
	w := &pgx.Batch{}
	w.Queue(`INSERT INTO bookings (id, student_id, instructor_id, instructor_service_id, date, start_time,
		end_time, duration_minutes, price_cents, note, during, area, address, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, tstzrange($11, $12, '[)'), $13, $14, $15)`,
		bk.ID, nb.StudentID, nb.InstructorID, nb.InstructorServiceID, p.Date, pgClock(p.Start), pgClock(p.End),
		nb.DurationMinutes, bk.PriceCents, nb.Note, p.StartsAt, p.EndsAt, bk.Location.Area, nb.Address, c.txNow).Exec(
		func(pgconn.CommandTag) error { return nil })
	if nb.IdempotencyKey != "" {
		body, err := json.Marshal(bk)
		if err != nil {
			return fmt.Errorf("encode booking: %w", err)
		}
		w.Queue(saveIdempotentResponseSQL, nb.StudentID, nb.IdempotencyKey, body)
	}
	ws, reminders := bookingNotes(market.NotifyBookingCreated, nb.StudentID, bk, c.f, now)
	notes, emails := queueNotifications(w, ws, &c.clock)
	evs := append([]market.NewEvent{
		{Topic: market.UserTopic(bk.InstructorID), Type: market.EventBookingCreated, Data: bk},
		{Topic: market.UserTopic(bk.StudentID), Type: market.EventBookingConfirmed, Data: bk},
		availabilityChangedOf(bk.InstructorID, p.Date, open),
	}, notes...)
	q, err := queueEvents(tx, w, evs)
	if err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, w).Close(); err != nil {
		return fmt.Errorf("insert booking: %w", err)
	}
	q.done()
	return db.jobs.InsertTx(ctx, tx, append(*emails, reminders...)...)
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

// cancelFacts is everything cancelBookingTx reads in its first batch.
type cancelFacts struct {
	student, instructor     string
	found, locked, curFound bool
	tz                      string
	notice                  int
	txNow, clock            time.Time
	cur                     *market.Booking
	f                       lessonFacts
	windows                 []span
	others                  []market.Lesson // the day's other time-blocking lessons
}

// queue queues the first batch of a cancellation: the schedule lock, the
// booking's row lock and what the checks, the notifications and the day's
// open time need.
func (c *cancelFacts) queue(b *pgx.Batch, id string) {
	b.Queue(`SELECT student_id, instructor_id FROM bookings WHERE id = $1`, id).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&c.student, &c.instructor), &c.found, "read booking")
	})
	b.Queue(`SELECT p.timezone, p.cancellation_notice_hours, now(), clock_timestamp() FROM instructor_profiles p
		JOIN users u ON u.id = p.user_id
		WHERE p.user_id = (SELECT instructor_id FROM bookings WHERE id = $1) AND u.deleted_at IS NULL
		FOR UPDATE OF p`, id).QueryRow(func(row pgx.Row) error {
		return noRowOK(row.Scan(&c.tz, &c.notice, &c.txNow, &c.clock), &c.locked, "lock instructor schedule")
	})
	b.Queue(bookingSelect+` WHERE b.id = $1 FOR UPDATE OF b`, id).QueryRow(func(row pgx.Row) error {
		var err error
		c.cur, err = scanBooking(row)
		return noRowOK(err, &c.curFound, "read booking")
	})
	b.Queue(`SELECT `+fmt.Sprintf(settingsColumns, "ss")+`, `+fmt.Sprintf(settingsColumns, "si")+` FROM bookings b
		LEFT JOIN notification_settings ss ON ss.user_id = b.student_id
		LEFT JOIN notification_settings si ON si.user_id = b.instructor_id
		WHERE b.id = $1`, id).QueryRow(func(row pgx.Row) error {
		var found bool
		return noRowOK(row.Scan(c.f.settingsDest()...), &found, "read lesson facts")
	})
	queueSpans(b, &c.windows, "windows", `SELECT w.start_time, w.end_time FROM bookings b
		JOIN availability_windows w ON w.instructor_id = b.instructor_id AND w.date = b.date
		WHERE b.id = $1 ORDER BY w.start_time`, id)
	queueLessons(b, &c.others, "bookings", `SELECT o.date, o.start_time, lower(o.during), upper(o.during) FROM bookings b
		JOIN bookings o ON o.instructor_id = b.instructor_id AND o.date = b.date
			AND `+blocksTimeSQL("o")+` AND o.id <> b.id
		WHERE b.id = $1`, id)
}

// check runs lockBooking's checks, in its order, on the facts.
func (c *cancelFacts) check(actor *market.User, now time.Time) (*time.Location, error) {
	if !c.found {
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	if err := changeRefusal(actor, c.student, c.instructor); err != nil {
		return nil, err
	}
	if !c.locked {
		return nil, market.Errorf(market.ENOTFOUND, "instructor not found")
	}
	if !c.curFound {
		return nil, market.Errorf(market.ENOTFOUND, "booking not found")
	}
	if err := market.CheckChangeable(c.cur, now); err != nil {
		return nil, err
	}
	return loadZone(c.tz)
}

// cancelBookingTx is CancelBooking inside tx (account deletion cancels
// many lessons in its own transaction): one batch takes the schedule lock
// and the booking's row lock and reads what the checks, the notifications
// and the day's open time need; one batch writes the change, its
// notifications and its events; River queues the emails. An admin
// cancelling someone else's lesson is written to the audit trail in the
// same transaction.
func (db *DB) cancelBookingTx(ctx context.Context, tx pgx.Tx, actor *market.User, id, reason string, now time.Time) (*market.Booking, error) {
	var c cancelFacts
	b := &pgx.Batch{}
	c.queue(b, id)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	loc, err := c.check(actor, now)
	if err != nil {
		return nil, err
	}
	cur := c.cur
	if actor.ID != cur.StudentID && actor.ID != cur.InstructorID {
		if err := auditTx(ctx, tx, market.AuditAdminCancelled, cur.StudentID, map[string]any{
			"booking_id": id, "instructor_id": cur.InstructorID}); err != nil {
			return nil, err
		}
	}
	// A student's cancellation inside the instructor's notice is allowed
	// but marked late, so the instructor is told (booking.cancelled
	// carries late:true).
	bk := *cur
	cancelledAt := c.txNow.UTC() // cancelled_at = now(), the transaction's
	bk.Status, bk.CancelledAt = market.BookingCancelled, &cancelledAt
	bk.Late = market.LateCancel(actor.ID == cur.StudentID, cur.StartsAt, c.notice, now)
	c.f.studentName, c.f.instructorName, c.f.service, c.f.area = bk.Student.FullName, bk.Instructor.FullName, bk.ServiceName, bk.Location.Area
	d, _ := market.ParseDate(cur.Date)
	open := market.OpenTime(d, c.windows, c.others, loc)
	if err := db.writeCancel(ctx, tx, actor, reason, &c, &bk, d, open, now); err != nil {
		return nil, err
	}
	return &bk, nil
}

// writeCancel is the second batch of a cancellation (the row, the
// notifications, the events) and River's email jobs.
func (db *DB) writeCancel(ctx context.Context, tx pgx.Tx, actor *market.User, reason string, c *cancelFacts, bk *market.Booking, d time.Time, open []market.Interval, now time.Time) error {
	w := &pgx.Batch{}
	w.Queue(`UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2,
		cancel_reason = $3, updated_at = now(), late = $4 WHERE id = $1`, bk.ID, actor.ID, reason, bk.Late).Exec(
		func(pgconn.CommandTag) error { return nil })
	ws, _ := bookingNotes(market.NotifyBookingCancelled, actor.ID, bk, c.f, now)
	notes, emails := queueNotifications(w, ws, &c.clock)
	evs := append([]market.NewEvent{
		{Topic: market.UserTopic(bk.InstructorID), Type: market.EventBookingCancelled, Data: bk},
		{Topic: market.UserTopic(bk.StudentID), Type: market.EventBookingCancelled, Data: bk},
		availabilityChangedOf(bk.InstructorID, d, open),
	}, notes...)
	q, err := queueEvents(tx, w, evs)
	if err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, w).Close(); err != nil {
		return fmt.Errorf("cancel booking: %w", err)
	}
	q.done()
	return db.jobs.InsertTx(ctx, tx, *emails...)
}
