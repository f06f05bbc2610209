package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/market"
)

// Watches (SPEC §4.3, docs/features/watches.md), as implemented here:
//
//   - watch_days keeps, for each (instructor, date) that some watch covers,
//     the open time as of the last committed availability.changed event.
//     CreateWatch seeds it from the current availability.
//   - Every transaction that appends an availability.changed event also
//     runs, in the same batch and after the event (so under the topic's
//     row lock, in commit order), watchDaysSQL: it replaces the day's kept
//     open time with the event's and returns the old one. Time open now and
//     not before is what opened; for each such day a jobs.SlotOpened is
//     inserted in the same transaction (inTx, before COMMIT). So the job
//     exists exactly when the change committed, whichever write caused it
//     (a cancellation, a new or longer window, a moved lesson, a deleted
//     account), and a change that opens nothing costs one statement in a
//     batch already sent, no round trip.
//   - The job's worker (NotifySlotOpened) tells each matching watcher at
//     most once per watch per hour: a conditional UPDATE of
//     watches.last_notified_at in the notification's transaction.

// watchDaysSQL replaces the kept open time of the instructor's ($1)
// watched days ($2 dates, $3 open as JSON) and returns, for each that
// changed, the date, the old and the new open time. Days nobody watches
// have no row: nothing is read or written for them.
const watchDaysSQL = `
	WITH new AS (SELECT n.date, n.open::jsonb AS open FROM unnest($2::date[], $3::text[]) AS n(date, open)),
	old AS (SELECT d.date, d.open FROM watch_days d JOIN new ON new.date = d.date WHERE d.instructor_id = $1),
	up AS (UPDATE watch_days d SET open = new.open FROM new
		WHERE d.instructor_id = $1 AND d.date = new.date AND d.open IS DISTINCT FROM new.open)
	SELECT old.date, old.open, new.open FROM old JOIN new ON new.date = old.date
	WHERE old.open IS DISTINCT FROM new.open`

// availabilityChange is the data of an availability.changed event: data
// as its writer built it, else decoded from its JSON (encoded).
func availabilityChange(data any, encoded []byte) (market.AvailabilityChanged, bool) {
	switch d := data.(type) {
	case market.AvailabilityChanged:
		return d, true
	case *market.AvailabilityChanged:
		if d != nil {
			return *d, true
		}
	}
	var d market.AvailabilityChanged
	return d, json.Unmarshal(encoded, &d) == nil
}

// queueWatchDays queues watchDaysSQL in b for each availability.changed
// event in evs (q.out[i] is evs[i] once appended) and collects in q the
// SlotOpened jobs of what they opened.
func queueWatchDays(b *pgx.Batch, q *queuedEvents, evs []market.NewEvent) {
	for i, ne := range evs {
		if ne.Type != market.EventAvailabilityChanged {
			continue
		}
		ac, ok := availabilityChange(ne.Data, q.out[i].Data)
		if !ok || len(ac.Days) == 0 {
			continue
		}
		dates, opens := make([]string, len(ac.Days)), make([]string, len(ac.Days))
		for n, d := range ac.Days {
			open := d.Open
			if open == nil {
				open = []market.Interval{}
			}
			js, _ := json.Marshal(open) //nolint:errchkjson // strings only
			dates[n], opens[n] = d.Date, string(js)
		}
		b.Queue(watchDaysSQL, ac.InstructorID, dates, opens).Query(func(rows pgx.Rows) error {
			var (
				date          time.Time
				before, after []market.Interval
			)
			_, err := pgx.ForEachRow(rows, []any{&date, &before, &after}, func() error {
				if opened := market.Opened(before, after); len(opened) > 0 {
					q.jobs = append(q.jobs, slotOpenedJob(ac.InstructorID, date, opened, q.out[i].Seq))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("compare watched days: %w", err)
			}
			return nil
		})
	}
}

// slotOpenedJob is the job that tells the watchers of what opened.
func slotOpenedJob(instructorID string, date time.Time, opened []market.Interval, seq int64) jobs.Job {
	spans := make([]jobs.OpenedSpan, len(opened))
	for i, iv := range opened {
		spans[i] = jobs.OpenedSpan{Start: iv.Start, End: iv.End}
	}
	return jobs.Job{Args: jobs.SlotOpened{InstructorID: instructorID, Date: dateString(date), Opened: spans, Seq: seq}}
}

// watchInstructor reads what a watch needs of its instructor: the name and
// the zone. Returns a validation error on instructor_id when there is no
// such active instructor.
func (db *DB) watchInstructor(ctx context.Context, id string) (name string, loc *time.Location, err error) {
	if _, perr := parseUUID(id); perr != nil {
		return "", nil, market.ValidationError(map[string]string{"instructor_id": "no such instructor"})
	}
	var tz string
	err = db.pool.QueryRow(ctx, `SELECT u.full_name, p.timezone FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND u.deleted_at IS NULL
		AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2)`, id, market.RoleInstructor).Scan(&name, &tz)
	if market.ErrorCode(translate(err)) == market.ENOTFOUND {
		return "", nil, market.ValidationError(map[string]string{"instructor_id": "no such instructor"})
	}
	if err != nil {
		return "", nil, fmt.Errorf("read instructor: %w", translate(err))
	}
	loc, err = loadZone(tz)
	return name, loc, err
}

// CreateWatch stores userID's watch. Returns EVALIDATION for a bad input
// (market.WatchInput.Validate, as of the instructor's local today; an
// unknown instructor or oneself on instructor_id) and ECONFLICT when the
// user already has market.MaxActiveWatches watches that have not ended.
func (db *DB) CreateWatch(ctx context.Context, userID string, in market.WatchInput, now time.Time) (*market.Watch, error) {
	name, loc, err := db.watchInstructor(ctx, in.InstructorID)
	if err != nil {
		return nil, err
	}
	today := localToday(now, loc)
	spec, err := in.Validate(today)
	if err != nil {
		return nil, err
	}
	if in.InstructorID == userID {
		return nil, market.ValidationError(map[string]string{"instructor_id": "you cannot watch yourself"})
	}
	// What is open now is the baseline the first change is compared with.
	// A change committed between this read and the insert below is seen by
	// the next change of that day (its opening is told then, late).
	a, err := db.Availability(ctx, in.InstructorID, dateString(spec.From), dateString(spec.To))
	if err != nil {
		return nil, err
	}
	w := &market.Watch{UserID: userID, InstructorID: in.InstructorID, Instructor: market.Party{ID: in.InstructorID, FullName: name},
		Days: market.DayNames(spec.Days), From: dateString(spec.From), To: dateString(spec.To)}
	if spec.TimeOfDay != "" {
		w.TimeOfDay = &spec.TimeOfDay
	}
	err = db.transact(ctx, func(tx pgx.Tx) error {
		return insertWatch(ctx, tx, w, today, a)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// insertWatch checks the cap (under a per-user lock, so two concurrent
// creates cannot both pass it), inserts w and seeds watch_days from a.
func insertWatch(ctx context.Context, tx pgx.Tx, w *market.Watch, today time.Time, a *market.Availability) error {
	var active int
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('watches:' || $1, 0))`, w.UserID)
	b.Queue(`SELECT count(*) FROM watches WHERE user_id = $1 AND to_date >= $2`, w.UserID, today).QueryRow(func(row pgx.Row) error {
		return row.Scan(&active)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("count watches: %w", err)
	}
	if active >= market.MaxActiveWatches {
		return market.Errorf(market.ECONFLICT, "you already watch %d times; delete one first", market.MaxActiveWatches)
	}
	err := tx.QueryRow(ctx, `INSERT INTO watches (user_id, instructor_id, days, time_of_day, from_date, to_date)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		w.UserID, w.InstructorID, w.Days, w.TimeOfDay, w.From, w.To).Scan(&w.ID, &w.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert watch: %w", err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	dates, opens := make([]string, 0, len(a.Days)), make([]string, 0, len(a.Days))
	for _, d := range a.Days {
		open := d.Open
		if open == nil {
			open = []market.Interval{}
		}
		js, err := json.Marshal(open)
		if err != nil {
			return fmt.Errorf("encode open time: %w", err)
		}
		dates, opens = append(dates, d.Date), append(opens, string(js))
	}
	// A day already kept is current (every change updates it): keep it.
	_, err = tx.Exec(ctx, `INSERT INTO watch_days (instructor_id, date, open)
		SELECT $1, d, o::jsonb FROM unnest($2::date[], $3::text[]) AS n(d, o)
		ON CONFLICT (instructor_id, date) DO NOTHING`, w.InstructorID, dates, opens)
	if err != nil {
		return fmt.Errorf("seed watched days: %w", err)
	}
	return nil
}

// watchColumns are a watch's columns as scanWatch reads them (w: watches,
// iu: the instructor's user row).
const watchColumns = `w.id, w.user_id, w.instructor_id, iu.full_name, w.days, w.time_of_day,
	w.from_date, w.to_date, w.created_at, w.last_notified_at`

func scanWatch(row pgx.CollectableRow) (market.Watch, error) {
	var (
		w        market.Watch
		from, to time.Time
	)
	err := row.Scan(&w.ID, &w.UserID, &w.InstructorID, &w.Instructor.FullName, &w.Days, &w.TimeOfDay,
		&from, &to, &w.CreatedAt, &w.LastNotifiedAt)
	w.Instructor.ID, w.From, w.To, w.CreatedAt = w.InstructorID, dateString(from), dateString(to), w.CreatedAt.UTC()
	if w.LastNotifiedAt != nil {
		t := w.LastNotifiedAt.UTC()
		w.LastNotifiedAt = &t
	}
	if w.Days == nil {
		w.Days = []string{}
	}
	return w, err
}

// Watches lists userID's watches that have not ended (their "to" date is
// today or later in the instructor's zone), soonest first.
func (db *DB) Watches(ctx context.Context, userID string) ([]market.Watch, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+watchColumns+` FROM watches w
		JOIN users iu ON iu.id = w.instructor_id
		JOIN instructor_profiles p ON p.user_id = w.instructor_id
		WHERE w.user_id = $1 AND w.to_date >= (now() AT TIME ZONE p.timezone)::date
		ORDER BY w.from_date, w.created_at, w.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list watches: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, scanWatch)
	if err != nil {
		return nil, fmt.Errorf("list watches: %w", translate(err))
	}
	if out == nil {
		out = []market.Watch{}
	}
	return out, nil
}

// DeleteWatch removes userID's watch id. Returns ENOTFOUND when userID has
// no such watch (another user's included).
func (db *DB) DeleteWatch(ctx context.Context, userID, id string) error {
	if _, err := parseUUID(id); err != nil {
		return market.Errorf(market.ENOTFOUND, "watch not found")
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM watches WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete watch: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return market.Errorf(market.ENOTFOUND, "watch not found")
	}
	return nil
}
