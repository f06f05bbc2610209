package store_test

import (
	"context"
	"reflect"
	"testing"

	"instainstru/market"
)

// AddWindow and DeleteWindow compute the event's open time from the rows
// they read under the lock (no re-read after the write): it must equal what
// a fresh read of the day says, with bookings and other windows present.
func TestWindowWriteEventsEqualTheDayAsReadAfterCommit(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "13:00", "15:00", fixedNow)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	_, err := w.db.CreateBooking(ctx, market.NewBooking{StudentID: student, InstructorID: in,
		InstructorServiceID: offer, Date: monday, StartTime: "10:00", DurationMinutes: 60, Now: fixedNow})
	noErr(t, err)
	check := func(what string, want []market.Interval) {
		t.Helper()
		evs := w.rec.take()
		got := changedDays(t, evs)
		read := w.day(in, monday).Open
		if len(evs) != 1 || !reflect.DeepEqual(got, []market.OpenDay{{Date: monday, Open: want}}) || !reflect.DeepEqual(read, want) {
			t.Fatalf("%s: event days %+v, read %+v, want %+v", what, got, read, want)
		}
	}
	w.rec.take()
	win, err := w.db.AddWindow(ctx, in, monday, market.WindowInput{Start: "12:00", End: "13:00"}, fixedNow)
	noErr(t, err)
	check("add between", intervals("09:00", "10:00", "11:00", "12:00", "12:00", "13:00", "13:00", "15:00")) // windows stay apart
	noErr(t, w.db.DeleteWindow(ctx, in, win.ID, fixedNow))
	check("delete it again", intervals("09:00", "10:00", "11:00", "12:00", "13:00", "15:00"))
	_, err = w.db.AddWindow(ctx, in, monday, market.WindowInput{Start: "11:30", End: "12:30"}, fixedNow)
	wantCode(t, err, market.EVALIDATION)
	if evs := w.rec.take(); len(evs) != 0 {
		t.Fatalf("a refused window appended %+v", evs)
	}
}

// The week edits answer from the same read that builds their event: the
// answer must equal a fresh read of the week, its seq the event's (the
// topic's seq after commit), and the event the changed day as read.
func TestWeekEditAnswersTheWeekAsReadAfterCommitWithTheEventsSeq(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	_, err := w.db.CreateBooking(ctx, market.NewBooking{StudentID: student, InstructorID: in,
		InstructorServiceID: offer, Date: monday, StartTime: "10:00", DurationMinutes: 60, Now: fixedNow})
	noErr(t, err)
	w.rec.take()
	got, err := w.db.ReplaceWeek(ctx, in, monday, []market.DayInput{{Date: monday,
		Windows: []market.WindowInput{{Start: "08:00", End: "11:00"}, {Start: "14:00", End: "16:00"}}}}, fixedNow)
	noErr(t, err)
	evs := w.rec.take()
	read, err := w.db.Availability(ctx, in, got.Days[0].Date, got.Days[len(got.Days)-1].Date)
	noErr(t, err)
	if len(evs) != 1 || got.Seq != evs[0].Seq || got.Seq != w.seq(in) || !reflect.DeepEqual(got, read) {
		t.Fatalf("answer %+v\nread %+v\nevents %+v (topic seq %d)", got, read, evs, w.seq(in))
	}
	want := intervals("08:00", "10:00", "14:00", "16:00")
	if days := changedDays(t, evs); len(days) == 0 || days[0].Date != monday || !reflect.DeepEqual(days[0].Open, want) {
		t.Fatalf("event days %+v, want %s open %+v", days, monday, want)
	}
}
