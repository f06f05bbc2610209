package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"instainstru/jobs"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// slotJobs returns the slot_opened jobs queued so far, oldest first.
func (w *schedWorld) slotJobs() []jobs.SlotOpened {
	w.t.Helper()
	rows, err := storetest.Pool(w.db).Query(context.Background(), `SELECT args FROM river_job WHERE kind = 'slot_opened' ORDER BY id`)
	noErr(w.t, err)
	defer rows.Close()
	var out []jobs.SlotOpened
	for rows.Next() {
		var raw []byte
		noErr(w.t, rows.Scan(&raw))
		var j jobs.SlotOpened
		noErr(w.t, json.Unmarshal(raw, &j))
		out = append(out, j)
	}
	return out
}

// The change's own transaction decides what opened: a new window on a
// watched day queues one job naming exactly the new time; a change on a day
// nobody watches, or one that opens nothing, queues none. The worker tells
// a matching watcher once an hour however many jobs run.
func TestWatchedDaysQueueWhatOpenedAndTheWorkerTellsOnceAnHour(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	inst, _ := w.instructor("America/New_York")
	student := w.user(market.RoleStudent)
	nyc, _ := time.LoadLocation("America/New_York")
	now := time.Now()
	today := now.In(nyc)
	d := time.Date(today.Year(), today.Month(), today.Day()+3, 0, 0, 0, 0, time.UTC)
	date := d.Format(time.DateOnly)
	w.addWindow(inst, date, "09:00", "10:00", nil)

	watch, err := w.db.CreateWatch(ctx, student, market.WatchInput{InstructorID: inst, From: date, To: date}, now)
	noErr(t, err)
	if watch.Instructor.ID != inst || len(watch.Days) != 0 || watch.From != date {
		t.Fatalf("watch %+v", watch)
	}
	if got := w.count(`SELECT count(*) FROM watch_days WHERE instructor_id = $1`, inst); got != 1 {
		t.Fatalf("%d watched days kept, want 1", got)
	}

	w.addWindow(inst, date, "14:00", "15:00", nil)                                     // opens 14:00–15:00
	w.addWindow(inst, d.AddDate(0, 0, 1).Format(time.DateOnly), "09:00", "10:00", nil) // not watched
	js := w.slotJobs()
	if len(js) != 1 || js[0].Date != date || len(js[0].Opened) != 1 || js[0].Opened[0] != (jobs.OpenedSpan{Start: "14:00", End: "15:00"}) ||
		js[0].Seq != w.seq(inst)-1 {
		t.Fatalf("jobs %+v", js)
	}
	told, err := w.db.NotifySlotOpened(ctx, js[0], now)
	noErr(t, err)
	if told != 1 {
		t.Fatalf("told %d watchers, want 1", told)
	}
	var title string
	noErr(t, storetest.Pool(w.db).QueryRow(ctx, `SELECT title FROM notifications WHERE user_id = $1 AND kind = 'slot.opened'`, student).Scan(&title))
	if title != d.Weekday().String()+" 14:00 just opened" {
		t.Fatalf("title %q", title)
	}
	// Within the hour: told no more, by a retry or another opening.
	w.addWindow(inst, date, "16:00", "17:00", nil)
	for _, j := range w.slotJobs() {
		told, err := w.db.NotifySlotOpened(ctx, j, now)
		noErr(t, err)
		if told != 0 {
			t.Fatalf("told %d again within the hour", told)
		}
	}
	// An hour later, the next opening is told.
	_, err = storetest.Pool(w.db).Exec(ctx, `UPDATE watches SET last_notified_at = now() - interval '61 minutes'`)
	noErr(t, err)
	js = w.slotJobs()
	told, err = w.db.NotifySlotOpened(ctx, js[len(js)-1], now)
	noErr(t, err)
	if told != 1 {
		t.Fatalf("told %d after the hour, want 1", told)
	}

	list, err := w.db.Watches(ctx, student)
	noErr(t, err)
	if len(list) != 1 || list[0].LastNotifiedAt == nil {
		t.Fatalf("list %+v", list)
	}
	noErr(t, w.db.DeleteWatch(ctx, student, watch.ID))
	wantCode(t, w.db.DeleteWatch(ctx, student, watch.ID), market.ENOTFOUND)
}

// A watch ends at its "to" date: retention deletes it once the cutoff
// passes that date, and the open times kept for dates no live watch covers.
func TestRetentionEndsWatchesAfterTheirLastDate(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	inst, _ := w.instructor("America/New_York")
	student := w.user(market.RoleStudent)
	now := time.Now()
	d := now.AddDate(0, 0, 2).Format(time.DateOnly)
	w.addWindow(inst, d, "09:00", "10:00", nil)
	_, err := w.db.CreateWatch(ctx, student, market.WatchInput{InstructorID: inst, From: d, To: d}, now)
	noErr(t, err)
	n, err := w.db.Prune(ctx, store.RetentionWatches, now, 10)
	noErr(t, err)
	if n != 0 || w.count(`SELECT count(*) FROM watch_days`) != 1 {
		t.Fatalf("pruned %d live watches", n)
	}
	after := now.AddDate(0, 0, 4)
	for _, kind := range []string{store.RetentionWatchDays, store.RetentionWatches} {
		n, err := w.db.Prune(ctx, kind, after, 10)
		noErr(t, err)
		if n != 1 {
			t.Fatalf("%s pruned %d rows, want 1", kind, n)
		}
	}
	if got := w.count(`SELECT count(*) FROM watches`) + w.count(`SELECT count(*) FROM watch_days`); got != 0 {
		t.Fatalf("%d rows left", got)
	}
}
