package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/market"
)

// watcher is one watch that may hear of an opening, with what its
// notification needs.
type watcher struct {
	id, userID string
	spec       market.WatchSpec
	email      bool
}

// NotifySlotOpened tells the watchers of j's instructor whose watch
// matches what opened (market.WatchSpec.Match, as of now in the
// instructor's zone) with a slot.opened notification: in the inbox, pushed
// on user:<id>, and emailed when their settings say so. A watch told less
// than market.WatchNotifyEvery ago is skipped; the check and the stamp are
// one conditional UPDATE in the notification's transaction, so concurrent
// or retried jobs, on any nodes, tell each watch at most once an hour.
// Returns how many watchers were told.
func (db *DB) NotifySlotOpened(ctx context.Context, j jobs.SlotOpened, now time.Time) (told int, err error) {
	date, err := market.ParseDate(j.Date)
	if err != nil {
		return 0, nil // not ours to retry: a malformed job does not heal
	}
	opened := make([]market.Interval, len(j.Opened))
	for i, s := range j.Opened {
		opened[i] = market.Interval{Start: s.Start, End: s.End}
	}
	err = db.transact(ctx, func(tx pgx.Tx) error {
		told = 0
		name, tz, ws, err := readWatchers(ctx, tx, j.InstructorID, date)
		if err != nil || len(ws) == 0 {
			return err
		}
		loc, err := loadZone(tz)
		if err != nil {
			return err
		}
		var notBefore market.Clock
		if local := now.In(loc); localToday(now, loc).Equal(date) {
			notBefore = market.Clock(local.Hour()*60 + local.Minute())
		} else if date.Before(localToday(now, loc)) {
			return nil
		}
		matched := map[string]market.Interval{}
		ids := []string{}
		for _, w := range ws {
			if iv, ok := w.spec.Match(date, opened, notBefore); ok {
				matched[w.id] = iv
				ids = append(ids, w.id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		stamped, err := stampWatches(ctx, tx, ids)
		if err != nil || len(stamped) == 0 {
			return err
		}
		var notes []noteWrite
		for _, w := range ws {
			if !stamped[w.id] {
				continue
			}
			key := fmt.Sprintf("slot.opened:%s:%d:%s", w.id, j.Seq, j.Date)
			notes = append(notes, slotOpenedNote(w, name, date, matched[w.id], key))
		}
		told = len(notes)
		return db.writeSlotOpened(ctx, tx, notes, j)
	})
	return told, err
}

// readWatchers reads the instructor's name and zone and the live watches
// of instructorID that cover date and were not told within the last
// market.WatchNotifyEvery, with each watcher's email setting.
func readWatchers(ctx context.Context, tx pgx.Tx, instructorID string, date time.Time) (name, tz string, ws []watcher, err error) {
	err = tx.QueryRow(ctx, `SELECT u.full_name, p.timezone FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND u.deleted_at IS NULL`, instructorID).Scan(&name, &tz)
	if market.ErrorCode(translate(err)) == market.ENOTFOUND {
		return "", "", nil, nil // the instructor left: nothing to tell
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("read instructor: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT w.id, w.user_id, w.days, COALESCE(w.time_of_day, ''), w.from_date, w.to_date,
		COALESCE(s.email, true)
		FROM watches w JOIN users u ON u.id = w.user_id AND u.deleted_at IS NULL
		LEFT JOIN notification_settings s ON s.user_id = w.user_id
		WHERE w.instructor_id = $1 AND $2::date BETWEEN w.from_date AND w.to_date
		AND (w.last_notified_at IS NULL OR w.last_notified_at <= now() - make_interval(secs => $3))`,
		instructorID, date, market.WatchNotifyEvery.Seconds())
	if err != nil {
		return "", "", nil, fmt.Errorf("read watches: %w", err)
	}
	ws, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (watcher, error) {
		var (
			w    watcher
			days []string
		)
		if err := r.Scan(&w.id, &w.userID, &days, &w.spec.TimeOfDay, &w.spec.From, &w.spec.To, &w.email); err != nil {
			return w, err
		}
		// Stored days were validated on the way in.
		w.spec.Days, _ = market.ParseWeekdays(days) //nolint:errcheck // see above
		return w, nil
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("read watches: %w", err)
	}
	return name, tz, ws, nil
}

// stampWatches sets last_notified_at on the watches ids not told within
// market.WatchNotifyEvery and returns those it stamped: the once-an-hour
// rule. The UPDATE re-checks each row after waiting for a concurrent
// stamp, so of two jobs only one stamps a watch.
func stampWatches(ctx context.Context, tx pgx.Tx, ids []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `UPDATE watches SET last_notified_at = now()
		WHERE id = ANY($1::uuid[]) AND (last_notified_at IS NULL OR last_notified_at <= now() - make_interval(secs => $2))
		RETURNING id`, ids, market.WatchNotifyEvery.Seconds())
	if err != nil {
		return nil, fmt.Errorf("stamp watches: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("stamp watches: %w", err)
	}
	out := make(map[string]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// slotOpenedNote is the notification of one watcher; its email (if the
// watcher wants email) is queued by writeSlotOpened with a link to the
// instructor's week.
func slotOpenedNote(w watcher, instructor string, date time.Time, iv market.Interval, key string) noteWrite {
	n := &market.Notification{ID: uuid.NewString(), UserID: w.userID, Kind: market.NotifySlotOpened}
	n.Title, n.Body = market.SlotOpenedText(instructor, date, iv)
	return noteWrite{n: n, dedupe: &key, email: w.email}
}

// writeSlotOpened writes notes (their emails, their jobs, their events) in tx.
func (db *DB) writeSlotOpened(ctx context.Context, tx pgx.Tx, notes []noteWrite, j jobs.SlotOpened) error {
	withEmail := make([]noteWrite, len(notes))
	for i, w := range notes {
		withEmail[i] = w
		withEmail[i].email = false // queued below, with the link
	}
	evs, _, err := writeNotifications(ctx, tx, withEmail)
	if err != nil {
		return err
	}
	var js []jobs.Job
	for _, w := range notes {
		if !w.email {
			continue
		}
		e := notificationEmail(w.n)
		e.Data["path"] = "/#/instructors/" + j.InstructorID + "?date=" + j.Date
		e.Data["instructor_id"] = j.InstructorID
		ej, err := insertEmail(ctx, tx, e)
		if err != nil {
			return err
		}
		js = append(js, ej...)
	}
	if err := db.jobs.InsertTx(ctx, tx, js...); err != nil {
		return err
	}
	_, err = appendEvents(ctx, tx, evs)
	return err
}
