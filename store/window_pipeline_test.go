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
