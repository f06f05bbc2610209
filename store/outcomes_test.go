package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// lessonAt books a 60-minute lesson on monday at start (under fixedNow)
// and returns it.
func (w *schedWorld) lessonAt(student, in, offer, start string) *market.Booking {
	w.t.Helper()
	r, err := w.db.CreateBooking(context.Background(), book(student, in, offer, monday, start))
	noErr(w.t, err)
	return r.Booking
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestCompleteLessonsMarksEndedConfirmedLessonsInBoundedBatchesWithEvents(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "08:00", "18:00", fixedNow)
	var ended []*market.Booking
	for _, start := range []string{"08:00", "09:00", "10:00"} {
		ended = append(ended, w.lessonAt(w.user(market.RoleStudent), in, offer, start))
	}
	cancelledBy := w.user(market.RoleStudent)
	cancelled := w.lessonAt(cancelledBy, in, offer, "11:00")
	_, err := w.db.CancelBooking(context.Background(), w.actor(cancelledBy), cancelled.ID, "", fixedNow)
	noErr(t, err)
	later := w.lessonAt(w.user(market.RoleStudent), in, offer, "15:00")

	// 13:00 on monday: three lessons have ended; the batch takes two, oldest first.
	now := ended[0].StartsAt.Add(5 * time.Hour)
	w.rec.take() // only the next write's events count
	done, err := w.db.CompleteLessons(context.Background(), now, 2)
	evs := w.rec.take()
	noErr(t, err)
	if len(done) != 2 || done[0].ID != ended[0].ID || done[1].ID != ended[1].ID {
		t.Fatalf("first batch completed %v", ids(done))
	}
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4 (two per lesson)", len(evs))
	}
	for _, e := range evs {
		var b market.Booking
		noErr(t, json.Unmarshal(e.Data, &b))
		if e.Type != market.EventBookingCompleted || b.Status != market.BookingCompleted ||
			(e.Topic != market.UserTopic(b.InstructorID) && e.Topic != market.UserTopic(b.StudentID)) {
			t.Fatalf("event %s on %s with %s", e.Type, e.Topic, e.Data)
		}
	}
	done, err = w.db.CompleteLessons(context.Background(), now, 2)
	noErr(t, err)
	if len(done) != 1 || done[0].ID != ended[2].ID {
		t.Fatalf("second batch completed %v", ids(done))
	}
	w.rec.take() // only the next write's events count
	done, err = w.db.CompleteLessons(context.Background(), now, 2)
	evs = w.rec.take()
	noErr(t, err)
	if len(done) != 0 || len(evs) != 0 {
		t.Fatalf("third batch completed %v with %d events", ids(done), len(evs))
	}
	for id, want := range map[string]string{cancelled.ID: market.BookingCancelled, later.ID: market.BookingConfirmed,
		ended[0].ID: market.BookingCompleted} {
		var st string
		noErr(t, storetest.Pool(w.db).QueryRow(context.Background(), `SELECT status FROM bookings WHERE id=$1`, id).Scan(&st))
		if st != want {
			t.Errorf("booking %s is %s, want %s", id, st, want)
		}
	}
	// Completed lessons keep their time taken in the open-time view.
	if d := w.day(in, monday); fmt.Sprint(d.Open) != fmt.Sprint(intervals("11:00", "15:00", "16:00", "18:00")) {
		t.Fatalf("open after completion %+v", d.Open)
	}
	// Completion appears in the student's history.
	list, _, err := w.db.Bookings(context.Background(), w.actor(ended[0].StudentID), market.BookingQuery{Scope: market.ScopePast, Now: at(now)})
	noErr(t, err)
	if len(list) != 1 || list[0].Status != market.BookingCompleted {
		t.Fatalf("past lessons %+v", list)
	}
	if _, err := w.db.CompleteLessons(context.Background(), now, 0); err == nil {
		t.Fatal("a zero batch was accepted")
	}
}

func ids(bs []market.Booking) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

func TestMarkNoShowOnlyByTheInstructorWithin48HoursOfTheEnd(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "08:00", "18:00", fixedNow)
	student, stranger, admin := w.user(market.RoleStudent), w.user(market.RoleStudent), w.user(market.RoleAdmin)
	b := w.lessonAt(student, in, offer, "09:00")
	end := b.EndsAt
	tests := []struct {
		name  string
		actor string
		now   time.Time
		code  string
	}{
		{"a stranger does not see it", stranger, end.Add(time.Hour), market.ENOTFOUND},
		{"its student may not", student, end.Add(time.Hour), market.EFORBIDDEN},
		{"an admin may not", admin, end.Add(time.Hour), market.EFORBIDDEN},
		{"before the lesson ends", in, end.Add(-time.Minute), market.ECONFLICT},
		{"after 48 hours", in, end.Add(market.NoShowWindow + time.Second), market.ECONFLICT},
	}
	for _, tc := range tests {
		_, err := w.db.MarkNoShow(context.Background(), w.actor(tc.actor), b.ID, at(tc.now))
		if market.ErrorCode(err) != tc.code {
			t.Fatalf("%s: error %v, want %s", tc.name, err, tc.code)
		}
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE status <> 'confirmed'`); n != 0 {
		t.Fatalf("%d bookings changed by refused reports", n)
	}
	w.rec.take() // only the next write's events count
	got, err := w.db.MarkNoShow(context.Background(), w.actor(in), b.ID, at(end.Add(market.NoShowWindow)))
	evs := w.rec.take()
	noErr(t, err)
	if got.Status != market.BookingNoShow || len(evs) != 2 || evs[0].Type != market.EventBookingNoShow {
		t.Fatalf("no-show %+v events %+v", got, evs)
	}
	_, err = w.db.MarkNoShow(context.Background(), w.actor(in), b.ID, at(end.Add(time.Hour)))
	wantCode(t, err, market.ECONFLICT)

	// A cancelled lesson cannot become a no-show; a completed one can.
	c := w.lessonAt(student, in, offer, "11:00")
	_, err = w.db.CancelBooking(context.Background(), w.actor(student), c.ID, "", fixedNow)
	noErr(t, err)
	_, err = w.db.MarkNoShow(context.Background(), w.actor(in), c.ID, at(c.EndsAt.Add(time.Hour)))
	wantCode(t, err, market.ECONFLICT)
	d := w.lessonAt(student, in, offer, "13:00")
	_, err = w.db.CompleteLessons(context.Background(), d.EndsAt, 10)
	noErr(t, err)
	got, err = w.db.MarkNoShow(context.Background(), w.actor(in), d.ID, at(d.EndsAt.Add(time.Hour)))
	noErr(t, err)
	if got.Status != market.BookingNoShow {
		t.Fatalf("completed lesson reported: %s", got.Status)
	}
}

func TestCompletionRacingANoShowReportEndsAsNoShowWithOrderedEvents(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "00:00", "24:00", fixedNow)
	const rounds = 20
	var lessons []*market.Booking
	for i := range rounds {
		lessons = append(lessons, w.lessonAt(w.user(market.RoleStudent), in, offer, fmt.Sprintf("%02d:00", i+1)))
	}
	instructor := w.actor(in)
	for _, b := range lessons {
		now := b.EndsAt.Add(time.Minute)
		var wg sync.WaitGroup
		var noShowErr, completeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, noShowErr = w.db.MarkNoShow(context.Background(), instructor, b.ID, at(now))
		}()
		go func() { defer wg.Done(); _, completeErr = w.db.CompleteLessons(context.Background(), now, 1) }()
		wg.Wait()
		noErr(t, noShowErr)
		noErr(t, completeErr)
		var status string
		noErr(t, storetest.Pool(w.db).QueryRow(context.Background(), `SELECT status FROM bookings WHERE id=$1`, b.ID).Scan(&status))
		if status != market.BookingNoShow {
			t.Fatalf("lesson %s ended %s, want no_show", b.ID, status)
		}
		// The student's topic tells the same story: at most one completed,
		// then exactly one no_show, last.
		rows, err := storetest.Pool(w.db).Query(context.Background(), `SELECT type FROM events WHERE topic=$1 AND payload->>'id'=$2
			AND type IN ('booking.completed','booking.no_show') ORDER BY seq`, market.UserTopic(b.StudentID), b.ID)
		noErr(t, err)
		var types []string
		for rows.Next() {
			var s string
			noErr(t, rows.Scan(&s))
			types = append(types, s)
		}
		noErr(t, rows.Err())
		seq := strings.Join(types, ",")
		if seq != "booking.no_show" && seq != "booking.completed,booking.no_show" {
			t.Fatalf("lesson %s events %q", b.ID, seq)
		}
	}
	// Nothing is left for the job: the no-show lessons are final.
	done, err := w.db.CompleteLessons(context.Background(), lessons[rounds-1].EndsAt.Add(time.Hour), 100)
	noErr(t, err)
	if len(done) != 0 {
		t.Fatalf("completed %d no-show lessons", len(done))
	}
}

func TestStudentCancellationInsideTheNoticeIsLateAndRescheduleIsRefused(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "08:00", "18:00", fixedNow)
	w.addWindow(in, tuesday, "08:00", "18:00", fixedNow)
	_, err := storetest.Pool(w.db).Exec(context.Background(), `UPDATE instructor_profiles SET cancellation_notice_hours=48 WHERE user_id=$1`, in)
	noErr(t, err)
	student := w.user(market.RoleStudent)
	b := w.lessonAt(student, in, offer, "09:00")
	inside, outside := at(b.StartsAt.Add(-47*time.Hour)), at(b.StartsAt.Add(-49*time.Hour))

	// Reschedule by the student inside the notice: refused, nothing moved.
	w.rec.take() // only the next write's events count
	_, _, err = w.db.RescheduleBooking(context.Background(), w.actor(student), b.ID, tuesday, "09:00", inside)
	evs := w.rec.take()
	wantCode(t, err, market.EINSIDENOTICE)
	if evs != nil || w.count(`SELECT count(*) FROM bookings WHERE id=$1 AND date=$2`, b.ID, monday) != 1 {
		t.Fatal("a refused reschedule moved the lesson")
	}
	// Outside the notice the student may move it; the instructor may move it any time.
	moved, _, err := w.db.RescheduleBooking(context.Background(), w.actor(student), b.ID, tuesday, "09:00", outside)
	noErr(t, err)
	moved, _, err = w.db.RescheduleBooking(context.Background(), w.actor(in), b.ID, tuesday, "10:00", at(moved.StartsAt.Add(-2*time.Hour)))
	noErr(t, err)
	if moved.Date != tuesday || moved.StartTime != "10:00" {
		t.Fatalf("instructor's move %+v", moved)
	}

	tests := []struct {
		name  string
		actor string
		now   func() time.Time
		late  bool
	}{
		{"student inside the notice", student, inside, true},
		{"student outside the notice", student, outside, false},
		{"instructor inside the notice", in, inside, false},
	}
	for i, tc := range tests {
		l := w.lessonAt(student, in, offer, fmt.Sprintf("%02d:00", 11+i))
		// The same distance before this lesson as tc.now is before b.
		now := at(l.StartsAt.Add(-b.StartsAt.Sub(tc.now())))
		w.rec.take() // only the next write's events count
		got, err := w.db.CancelBooking(context.Background(), w.actor(tc.actor), l.ID, "", now)
		evs := w.rec.take()
		noErr(t, err)
		if got.Late != tc.late || got.Status != market.BookingCancelled {
			t.Fatalf("%s: late=%v status=%s", tc.name, got.Late, got.Status)
		}
		for _, e := range evs {
			if e.Type != market.EventBookingCancelled {
				continue
			}
			var data map[string]any
			noErr(t, json.Unmarshal(e.Data, &data))
			if data["late"] != tc.late {
				t.Fatalf("%s: %s carries late=%v", tc.name, e.Topic, data["late"])
			}
		}
	}
}

func TestBookingLocationAreaDefaultsAndAddressRules(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	_, err := storetest.Pool(w.db).Exec(context.Background(), `UPDATE instructor_profiles SET areas='{Astoria,"Long Island City"}' WHERE user_id=$1`, in)
	noErr(t, err)
	w.addWindow(in, monday, "08:00", "18:00", fixedNow)
	student := w.user(market.RoleStudent)
	str := func(s string) *string { return &s }

	nb := book(student, in, offer, monday, "08:00")
	r, err := w.db.CreateBooking(context.Background(), nb)
	noErr(t, err)
	if r.Booking.Location.Area != "Astoria" || r.Booking.Location.Address != nil {
		t.Fatalf("default location %+v", r.Booking.Location)
	}
	nb = book(student, in, offer, monday, "09:00")
	nb.Area, nb.Address = " long island city ", str("  31-00 47th Ave, Café 東京 🎹\n2nd floor  ")
	r, err = w.db.CreateBooking(context.Background(), nb)
	noErr(t, err)
	if r.Booking.Location.Area != "Long Island City" || *r.Booking.Location.Address != "31-00 47th Ave, Café 東京 🎹\n2nd floor" {
		t.Fatalf("chosen location %+v %q", r.Booking.Location, *r.Booking.Location.Address)
	}
	bad := []struct {
		name, area string
		address    *string
		field      string
	}{
		{"area not served", "Harlem", nil, "area"},
		{"area too long", strings.Repeat("a", 65), nil, "area"},
		{"area with a bidi override", "Astoria\u202e", nil, "area"},
		{"address too long", "", str(strings.Repeat("é", market.MaxAddressLen+1)), "address"},
		{"address with a right-to-left override", "", str("12 Main St \u202egnp.exe"), "address"},
		{"address with an isolate", "", str("12 Main St \u2067x\u2069"), "address"},
		{"address with a control character", "", str("12 Main St\x07"), "address"},
	}
	for _, tc := range bad {
		nb := book(student, in, offer, monday, "12:00")
		nb.Area, nb.Address = tc.area, tc.address
		_, err := w.db.CreateBooking(context.Background(), nb)
		var me *market.Error
		if market.ErrorCode(err) != market.EVALIDATION || !asError(err, &me) || me.Details[tc.field] == nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if n := w.count(`SELECT count(*) FROM bookings`); n != 2 {
		t.Fatalf("%d bookings, want 2", n)
	}
	// The database refuses what the Go checks refuse.
	_, err = storetest.Pool(w.db).Exec(context.Background(), `UPDATE bookings SET address = E'x\u202Ey' WHERE id=$1`, r.Booking.ID)
	if err == nil || !strings.Contains(err.Error(), "bookings_address_text") {
		t.Fatalf("bidi address stored: %v", err)
	}
}
