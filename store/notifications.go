package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/market"
)

// Notifications, as implemented here:
//
//   - A booking, cancellation or move writes its notification rows, their
//     notification.created events (outbox, same transaction) and their jobs
//     (emails now, reminders later; River rows, same transaction). So a
//     rolled-back change notifies no one and a committed one always does,
//     even if this node dies right after the commit.
//   - Reminders are written when they fire (RemindLesson), after checking
//     that the lesson is still confirmed and still at the start it had when
//     they were scheduled.
//   - Email goes through the emails table (queueEmailTx): the job carries
//     the row id, and the row records the SMTP message id once sent.

// lessonFacts are what notification texts say about a booking and what its
// participants chose.
type lessonFacts struct {
	studentName, instructorName, service, area string
	student, instructor                        market.NotificationSettings
}

// settingsColumns selects one party's settings from notification_settings
// aliased %[1]s (defaults when the row is absent); both parties' come as
// "ss" (student) then "si" (instructor), read by settingsDest.
const settingsColumns = `COALESCE(%[1]s.email, true), COALESCE(%[1]s.reminders, true), COALESCE(%[1]s.reminder_hours, '{24,1}')`

// settingsDest is where a row's student ("ss") and instructor ("si")
// settingsColumns are scanned.
func (f *lessonFacts) settingsDest() []any {
	return []any{&f.student.Email, &f.student.Reminders, &f.student.ReminderHours,
		&f.instructor.Email, &f.instructor.Reminders, &f.instructor.ReminderHours}
}

// readLessonFacts takes names, the service and the area from the booking
// (read back with its joins) and both parties' settings in one round trip.
func readLessonFacts(ctx context.Context, q rowQuerier, b *market.Booking) (lessonFacts, error) {
	f := lessonFacts{studentName: b.Student.FullName, instructorName: b.Instructor.FullName,
		service: b.ServiceName, area: b.Location.Area}
	err := q.QueryRow(ctx, `SELECT `+fmt.Sprintf(settingsColumns, "ss")+`, `+fmt.Sprintf(settingsColumns, "si")+`
		FROM (SELECT 1) one
		LEFT JOIN notification_settings ss ON ss.user_id = $1
		LEFT JOIN notification_settings si ON si.user_id = $2`, b.StudentID, b.InstructorID).Scan(f.settingsDest()...)
	if err != nil {
		return f, fmt.Errorf("read lesson facts: %w", err)
	}
	return f, nil
}

// recipient is one user a booking change notifies.
type recipient struct {
	userID, kind, other string
	settings            market.NotificationSettings
}

// bookingRecipients says who hears of a change of kind made by actorID:
// a new booking tells both (created / confirmed); a cancellation or move
// tells the other party, or both when an admin made it.
func bookingRecipients(kind, actorID string, b *market.Booking, f lessonFacts) []recipient {
	inst := recipient{userID: b.InstructorID, kind: kind, other: f.studentName, settings: f.instructor}
	stud := recipient{userID: b.StudentID, kind: kind, other: f.instructorName, settings: f.student}
	switch {
	case kind == market.NotifyBookingCreated:
		stud.kind = market.NotifyBookingConfirmed
		return []recipient{inst, stud}
	case actorID == b.StudentID:
		return []recipient{inst}
	case actorID == b.InstructorID:
		return []recipient{stud}
	}
	return []recipient{inst, stud}
}

// notifyBooking writes the notifications of a booking change (kind is
// booking.created, booking.cancelled or booking.rescheduled) in tx and
// queues their emails and, for a new or moved lesson, its reminders. It
// returns the notification.created events for the caller's AppendEvents.
func (db *DB) notifyBooking(ctx context.Context, tx pgx.Tx, kind, actorID string, b *market.Booking, now time.Time) ([]market.NewEvent, error) {
	f, err := readLessonFacts(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	ws, reminders := bookingNotes(kind, actorID, b, f, now)
	evs, js, err := writeNotifications(ctx, tx, ws)
	if err != nil {
		return nil, err
	}
	if err := db.jobs.InsertTx(ctx, tx, append(js, reminders...)...); err != nil {
		return nil, err
	}
	return evs, nil
}

// bookingNotes are the notifications of a booking change (kind is
// booking.created, booking.cancelled or booking.rescheduled) made by
// actorID, and, for a new or moved lesson, its reminder jobs.
func bookingNotes(kind, actorID string, b *market.Booking, f lessonFacts, now time.Time) ([]noteWrite, []jobs.Job) {
	var ws []noteWrite
	for _, r := range bookingRecipients(kind, actorID, b, f) {
		lt := market.LessonText{Other: r.other, Service: f.service, Start: b.StartsAt, End: b.EndsAt, Area: f.area}
		ws = append(ws, newNoteWrite(r.userID, r.kind, &b.ID, "", lt, r.settings.Email))
	}
	var js []jobs.Job
	if kind != market.NotifyBookingCancelled {
		for _, r := range []struct {
			user string
			s    market.NotificationSettings
		}{{b.InstructorID, f.instructor}, {b.StudentID, f.student}} {
			js = append(js, reminderJobs(b, r.user, r.s, now)...)
		}
	}
	return ws, js
}

// reminderJobs are the reminders of user for b due after now.
func reminderJobs(b *market.Booking, user string, s market.NotificationSettings, now time.Time) []jobs.Job {
	if !s.Reminders {
		return nil
	}
	var out []jobs.Job
	for _, h := range s.ReminderHours {
		// Whole hours of real time before the start instant: DST-correct
		// because StartsAt is the instant, not a wall time.
		at := b.StartsAt.Add(-time.Duration(h) * time.Hour)
		if !at.After(now) {
			continue
		}
		out = append(out, jobs.Job{At: at, Args: jobs.Reminder{BookingID: b.ID, UserID: user, StartsAt: b.StartsAt.UTC(), Hours: h}})
	}
	return out
}

// noteWrite is a notification to insert, with its email or not.
type noteWrite struct {
	n      *market.Notification
	dedupe *string
	email  bool
}

func newNoteWrite(userID, kind string, bookingID *string, dedupe string, lt market.LessonText, email bool) noteWrite {
	// The id is made here so that the notification and its email go to
	// Postgres in one batch (one round trip under the schedule lock).
	n := &market.Notification{ID: uuid.NewString(), UserID: userID, Kind: kind, BookingID: bookingID}
	n.Title, n.Body = market.NotificationText(kind, lt)
	w := noteWrite{n: n, email: email}
	if dedupe != "" {
		w.dedupe = &dedupe
	}
	return w
}

// NewEmail is a templated email to one user.
type NewEmail struct {
	UserID   string
	Template string // a template name of the mail package, e.g. "booking.created"
	// Data is the template's data. A "path" (e.g. "/#/reset?token=…")
	// becomes the email's link under PUBLIC_URL; the recipient's name is
	// added at send time.
	Data map[string]any
	// Key makes queueing idempotent: a second email with the same key is
	// not queued (e.g. "notification:<id>", "password-reset:<token id>").
	Key string
}

// notificationEmail is the email of notification n.
func notificationEmail(n *market.Notification) NewEmail {
	data := map[string]any{"title": n.Title, "body": n.Body, "kind": n.Kind, "notification_id": n.ID}
	if n.BookingID != nil {
		data["booking_id"] = *n.BookingID
	}
	return NewEmail{UserID: n.UserID, Template: n.Kind, Data: data, Key: "notification:" + n.ID}
}

const insertEmailSQL = `INSERT INTO emails (user_id, template, data, dedupe_key) VALUES ($1, $2, $3, $4)
	ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`

// writeNotifications inserts ws (and their emails) in one round trip and
// returns their notification.created events (not yet appended) and the
// email jobs to insert.
func writeNotifications(ctx context.Context, tx pgx.Tx, ws []noteWrite) ([]market.NewEvent, []jobs.Job, error) {
	b := &pgx.Batch{}
	evs, js := queueNotifications(b, ws, nil)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("insert notifications: %w", err)
	}
	return evs, *js, nil
}

// queueNotifications queues the inserts of ws (and their emails) in b and
// returns their notification.created events, built before b is sent so
// that they can be queued in the same batch. createdAt stamps the rows
// (nil: the database's clock, read back into each notification as b's
// results are read, so its events must then be built after that). The
// email jobs fill in as b's results are read: an email already queued
// under the same key gets none.
func queueNotifications(b *pgx.Batch, ws []noteWrite, createdAt *time.Time) ([]market.NewEvent, *[]jobs.Job) {
	evs := make([]market.NewEvent, 0, len(ws))
	js := &[]jobs.Job{}
	for _, w := range ws {
		n := w.n
		if createdAt != nil {
			n.CreatedAt = createdAt.UTC()
		}
		b.Queue(`INSERT INTO notifications (id, user_id, kind, title, body, booking_id, dedupe_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, clock_timestamp())) RETURNING created_at`,
			n.ID, n.UserID, n.Kind, n.Title, n.Body, n.BookingID, w.dedupe, createdAt).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&n.CreatedAt); err != nil {
				return fmt.Errorf("insert notification: %w", err)
			}
			n.CreatedAt = n.CreatedAt.UTC()
			return nil
		})
		evs = append(evs, market.NewEvent{Topic: market.UserTopic(n.UserID), Type: market.EventNotificationCreated, Data: n})
		if w.email {
			e := notificationEmail(n)
			b.Queue(insertEmailSQL, e.UserID, e.Template, e.Data, e.Key).QueryRow(func(row pgx.Row) error {
				var id string
				switch err := row.Scan(&id); {
				case err == nil:
					*js = append(*js, jobs.Job{Args: jobs.Email{EmailID: id}})
				case market.ErrorCode(translate(err)) != market.ENOTFOUND: // not found: queued before
					return fmt.Errorf("queue email: %w", err)
				}
				return nil
			})
		}
	}
	return evs, js
}

// insertEmail writes the emails row of e and returns its job (none when
// an email with e.Key was queued before).
func insertEmail(ctx context.Context, tx pgx.Tx, e NewEmail) ([]jobs.Job, error) {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	var id string
	err := tx.QueryRow(ctx, insertEmailSQL, e.UserID, e.Template, e.Data, e.Key).Scan(&id)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, nil // already queued
		}
		return nil, fmt.Errorf("queue email: %w", err)
	}
	return []jobs.Job{{Args: jobs.Email{EmailID: id}}}, nil
}

// queueEmailTx queues e in tx: it is sent (by any node's workers) once tx
// commits, and never if it rolls back. This is the path for every
// transactional email (notifications, password reset, verification); the
// template must exist in the mail package.
func (db *DB) queueEmailTx(ctx context.Context, tx pgx.Tx, e NewEmail) error {
	js, err := insertEmail(ctx, tx, e)
	if err != nil {
		return err
	}
	return db.jobs.InsertTx(ctx, tx, js...)
}

// QueueEmail is queueEmailTx in a transaction of its own.
func (db *DB) QueueEmail(ctx context.Context, e NewEmail) error {
	return db.transact(ctx, func(tx pgx.Tx) error { return db.queueEmailTx(ctx, tx, e) })
}

// RemindLesson writes the reminder of r if it is still due: the lesson is
// confirmed, still starts at r.StartsAt, and the user still wants reminders
// r.Hours ahead, and says whether it did: nothing is written when nothing
// is due or the reminder was written before (a retried job is a no-op).
func (db *DB) RemindLesson(ctx context.Context, r jobs.Reminder) (written bool, err error) {
	err = db.transact(ctx, func(tx pgx.Tx) error {
		written = false
		// The row lock orders this check with a concurrent cancel or move.
		b, err := bookingByID(ctx, tx, r.BookingID, true)
		if market.ErrorCode(err) == market.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if b.Status != market.BookingConfirmed || !b.StartsAt.Equal(r.StartsAt) {
			return nil
		}
		f, err := readLessonFacts(ctx, tx, b)
		if err != nil {
			return err
		}
		s, other := f.student, f.instructorName
		if r.UserID == b.InstructorID {
			s, other = f.instructor, f.studentName
		} else if r.UserID != b.StudentID {
			return nil
		}
		if !s.Reminders || !slices.Contains(s.ReminderHours, r.Hours) {
			return nil
		}
		key := fmt.Sprintf("reminder:%s:%s:%d:%d", b.ID, r.UserID, b.StartsAt.Unix(), r.Hours)
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications WHERE dedupe_key = $1)`, key).Scan(&exists); err != nil {
			return fmt.Errorf("check reminder: %w", err)
		}
		if exists {
			return nil
		}
		lt := market.LessonText{Other: other, Service: f.service, Start: b.StartsAt, End: b.EndsAt, Area: f.area, Hours: r.Hours}
		evs, js, err := writeNotifications(ctx, tx, []noteWrite{newNoteWrite(r.UserID, market.NotifyLessonReminder, &b.ID, key, lt, s.Email)})
		if err != nil {
			return err
		}
		if err := db.jobs.InsertTx(ctx, tx, js...); err != nil {
			return err
		}
		_, err = appendEvents(ctx, tx, evs)
		written = err == nil
		return err
	})
	return written, err
}

// Notifications lists userID's notifications. Returns EVALIDATION for a bad
// limit or cursor.
func (db *DB) Notifications(ctx context.Context, userID string, q market.NotificationQuery) (*market.NotificationPage, error) {
	fields := map[string]string{}
	afterT, afterID := pageCursor(q.Cursor, &q.Limit, fields)
	if len(fields) > 0 {
		return nil, market.ValidationError(fields)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT id, kind, title, body, booking_id, created_at, read_at FROM notifications
		WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
		AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
		ORDER BY created_at DESC, id DESC LIMIT $5`, userID, q.UnreadOnly, afterT, afterID, q.Limit+1)
	b.Queue(`SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, _ := br.Query() // an error surfaces from CollectRows
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Notification, error) {
		var n market.Notification
		err := r.Scan(&n.ID, &n.Kind, &n.Title, &n.Body, &n.BookingID, &n.CreatedAt, &n.ReadAt)
		n.UserID, n.CreatedAt = userID, n.CreatedAt.UTC()
		if n.ReadAt != nil {
			t := n.ReadAt.UTC()
			n.ReadAt = &t
		}
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", translate(err))
	}
	p := &market.NotificationPage{Items: items}
	if err := br.QueryRow().Scan(&p.Unread); err != nil {
		return nil, fmt.Errorf("count unread: %w", err)
	}
	if len(p.Items) > q.Limit {
		p.Items = p.Items[:q.Limit]
		last := p.Items[len(p.Items)-1]
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last.CreatedAt.Format(time.RFC3339Nano) + "|" + last.ID))
	}
	if p.Items == nil {
		p.Items = []market.Notification{}
	}
	return p, nil
}

// EventNotificationsRead tells a user's other devices that notifications
// were read: {"ids":[…]} or {"all":true}, and the unread count after.
const EventNotificationsRead = "notification.read"

// MarkNotificationsRead marks userID's notifications with these ids (or all
// of them) read; ids of other users' notifications and malformed ids are
// ignored. When something changed, a notification.read event tells the
// user's other devices.
func (db *DB) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, err := parseUUID(id); err == nil {
			valid = append(valid, id)
		}
	}
	return db.transact(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE notifications SET read_at = now()
			WHERE user_id = $1 AND read_at IS NULL AND ($2 OR id = ANY($3::uuid[])) RETURNING id`, userID, all, valid)
		if err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		marked, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(marked) == 0 {
			return err
		}
		var unread int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&unread); err != nil {
			return fmt.Errorf("count unread: %w", err)
		}
		data := map[string]any{"ids": marked, "unread": unread}
		_, err = appendEvents(ctx, tx, []market.NewEvent{{Topic: market.UserTopic(userID), Type: EventNotificationsRead, Data: data}})
		return err
	})
}

// NotificationSettings returns userID's settings (the defaults until saved).
func (db *DB) NotificationSettings(ctx context.Context, userID string) (market.NotificationSettings, error) {
	s := market.DefaultNotificationSettings()
	err := db.pool.QueryRow(ctx, `SELECT email, reminders, reminder_hours FROM notification_settings WHERE user_id = $1`,
		userID).Scan(&s.Email, &s.Reminders, &s.ReminderHours)
	if err != nil && market.ErrorCode(translate(err)) != market.ENOTFOUND {
		return s, fmt.Errorf("read notification settings: %w", err)
	}
	return s, nil
}

// SaveNotificationSettings stores userID's settings. They apply to what is
// sent from now on: reminders already scheduled check them when they fire.
func (db *DB) SaveNotificationSettings(ctx context.Context, userID string, s market.NotificationSettings) (market.NotificationSettings, error) {
	if err := s.Validate(); err != nil {
		return s, err
	}
	if s.ReminderHours == nil {
		s.ReminderHours = []int{}
	}
	slices.SortFunc(s.ReminderHours, func(a, b int) int { return b - a })
	_, err := db.pool.Exec(ctx, `INSERT INTO notification_settings (user_id, email, reminders, reminder_hours)
		VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE
		SET email = $2, reminders = $3, reminder_hours = $4, updated_at = now()`, userID, s.Email, s.Reminders, s.ReminderHours)
	if err != nil {
		return s, fmt.Errorf("save notification settings: %w", translate(err))
	}
	return s, nil
}
