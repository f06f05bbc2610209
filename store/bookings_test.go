package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// book is a 60-minute booking request on monday at start, under fixedNow.
func book(student, instructor, offer, date, start string) market.NewBooking {
	return market.NewBooking{StudentID: student, InstructorID: instructor, InstructorServiceID: offer,
		Date: date, StartTime: start, DurationMinutes: 60, Now: fixedNow}
}

func TestCreateBookingConfirmsInstantlyAndAnnouncesIt(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	nb := book(student, in, offer, monday, "09:30")
	nb.DurationMinutes = 30
	nb.Note = "bring sheet music"
	w.rec.take() // only the next write's events count
	r, err := w.db.CreateBooking(context.Background(), nb)
	noErr(t, err)
	published := w.rec.take()
	b := r.Booking
	if r.Replay {
		t.Fatalf("first request reported as a replay")
	}
	want := market.Booking{ID: b.ID, Status: market.BookingConfirmed, StudentID: student, InstructorID: in,
		InstructorServiceID: offer, Date: monday, StartTime: "09:30", EndTime: "10:00", PriceCents: 3000,
		Note: "bring sheet music", StartsAt: b.StartsAt, EndsAt: b.EndsAt, CreatedAt: b.CreatedAt,
		Student: market.Party{ID: student, FullName: "student 2"}, Instructor: market.Party{ID: in, FullName: "instructor 1"},
		ServiceName: "Piano"}
	if !reflect.DeepEqual(*b, want) {
		t.Fatalf("booking\n%+v\nwant\n%+v", *b, want)
	}
	if b.StartsAt.Format(time.RFC3339) != "2027-01-11T09:30:00-05:00" || b.EndsAt.Sub(b.StartsAt) != 30*time.Minute {
		t.Fatalf("instants %s - %s", b.StartsAt, b.EndsAt)
	}
	// What the create answers is exactly what a later read returns.
	read, err := w.db.Booking(context.Background(), w.actor(student), b.ID)
	noErr(t, err)
	created, _ := json.Marshal(b)
	stored, _ := json.Marshal(read)
	if string(created) != string(stored) {
		t.Fatalf("create answered\n%s\nbut the booking reads\n%s", created, stored)
	}
	got := map[string]string{}
	for _, e := range published {
		if e.Type == market.EventNotificationCreated {
			continue // notifications_test.go
		}
		got[e.Topic] = e.Type
		if e.Type != market.EventAvailabilityChanged {
			var data market.Booking
			noErr(t, json.Unmarshal(e.Data, &data))
			if data.ID != b.ID || data.Status != market.BookingConfirmed {
				t.Errorf("%s data %+v", e.Type, data)
			}
		}
	}
	wantTypes := map[string]string{
		market.UserTopic(in):         market.EventBookingCreated,
		market.UserTopic(student):    market.EventBookingConfirmed,
		market.AvailabilityTopic(in): market.EventAvailabilityChanged,
	}
	if !reflect.DeepEqual(got, wantTypes) {
		t.Fatalf("events %v, want %v", got, wantTypes)
	}
	if d := changedDays(t, published); !reflect.DeepEqual(d, []market.OpenDay{{Date: monday, Open: intervals("09:00", "09:30", "10:00", "12:00")}}) {
		t.Fatalf("open after booking %+v", d)
	}
	if n := w.count(`SELECT count(*) FROM events`); n != 6 { // window + 3 + 2 notifications
		t.Fatalf("%d event rows, want 4", n)
	}
}

func TestCreateBookingRejectsBadRequestsAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	other, otherOffer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	var retired string
	noErr(t, storetest.Pool(w.db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations, is_active)
		VALUES ($1,$2,5000,'{60}',false) RETURNING id`, in, w.service).Scan(&retired))
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, "2027-01-04", "08:00", "12:00", fixedNow) // today at fixedNow (08:00 local)
	w.addWindow(other, monday, "09:00", "12:00", fixedNow)
	events := w.count(`SELECT count(*) FROM events`)

	tests := []struct {
		name  string
		edit  func(*market.NewBooking)
		code  string
		field string
	}{
		{"before the window", func(b *market.NewBooking) { b.StartTime = "08:00" }, market.ESLOTUNAVAIL, ""},
		{"past the end of the window", func(b *market.NewBooking) { b.StartTime = "11:30" }, market.ESLOTUNAVAIL, ""},
		{"on a day without windows", func(b *market.NewBooking) { b.Date = tuesday }, market.ESLOTUNAVAIL, ""},
		{"misaligned start", func(b *market.NewBooking) { b.StartTime = "09:10" }, market.EVALIDATION, "start_time"},
		{"malformed start", func(b *market.NewBooking) { b.StartTime = "9am" }, market.EVALIDATION, "start_time"},
		{"malformed date", func(b *market.NewBooking) { b.Date = "2027-13-01" }, market.EVALIDATION, "date"},
		{"duration not offered", func(b *market.NewBooking) { b.DurationMinutes = 45 }, market.EVALIDATION, "duration_minutes"},
		{"duration not a multiple of 15", func(b *market.NewBooking) { b.DurationMinutes = 50 }, market.EVALIDATION, "duration_minutes"},
		{"soft-deleted service", func(b *market.NewBooking) { b.InstructorServiceID = retired }, market.EVALIDATION, "instructor_service_id"},
		{"another instructor's service", func(b *market.NewBooking) { b.InstructorServiceID = otherOffer }, market.EVALIDATION, "instructor_service_id"},
		{"unknown service", func(b *market.NewBooking) { b.InstructorServiceID = "00000000-0000-0000-0000-000000000001" }, market.EVALIDATION, "instructor_service_id"},
		{"unknown instructor", func(b *market.NewBooking) { b.InstructorID = "00000000-0000-0000-0000-000000000001" }, market.EVALIDATION, "instructor_id"},
		{"booking yourself", func(b *market.NewBooking) { b.StudentID = in }, market.EVALIDATION, "instructor_id"},
		{"in the past", func(b *market.NewBooking) { b.Date = "2027-01-04"; b.StartTime = "08:00" }, market.EVALIDATION, "start_time"},
		{"less than an hour ahead", func(b *market.NewBooking) { b.Date = "2027-01-04"; b.StartTime = "08:45" }, market.EVALIDATION, "start_time"},
		{"note too long", func(b *market.NewBooking) { b.Note = string(make([]byte, 1001)) }, market.EVALIDATION, "note"},
		{"idempotency key too long", func(b *market.NewBooking) { b.IdempotencyKey = string(make([]byte, 129)) }, market.EVALIDATION, "idempotency_key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nb := book(student, in, offer, monday, "10:00")
			tc.edit(&nb)
			r, err := w.db.CreateBooking(ctx, nb)
			wantCode(t, err, tc.code)
			if r != nil {
				t.Fatal("result for a failed booking")
			}
			if tc.field != "" {
				var me *market.Error
				if !asError(err, &me) || me.Details[tc.field] == nil {
					t.Fatalf("details %v do not name %q", me.Details, tc.field)
				}
			}
			if n := w.count(`SELECT count(*) FROM bookings`); n != 0 {
				t.Fatalf("%d bookings written", n)
			}
			if n := w.count(`SELECT count(*) FROM events`); n != events {
				t.Fatalf("%d events, want %d", n, events)
			}
		})
	}
	t.Run("exactly an hour ahead is fine", func(t *testing.T) {
		_, err := w.db.CreateBooking(ctx, book(student, in, offer, "2027-01-04", "09:00"))
		noErr(t, err)
	})
}

func TestStudentCannotDoubleBookAcrossInstructors(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	a, offerA := w.instructor(market.DefaultTimezone)
	b, offerB := w.instructor("America/Chicago")
	student := w.user(market.RoleStudent)
	w.addWindow(a, monday, "09:00", "12:00", fixedNow)
	w.addWindow(b, monday, "07:00", "12:00", fixedNow)
	_, err := w.db.CreateBooking(ctx, book(student, a, offerA, monday, "10:00")) // 15:00Z-16:00Z
	noErr(t, err)
	// 09:30 Chicago is 10:30 New York: overlaps.
	_, err = w.db.CreateBooking(ctx, book(student, b, offerB, monday, "09:30"))
	wantCode(t, err, market.ESLOTUNAVAIL)
	if m := market.ErrorMessage(err); m != "you already have a lesson at that time" {
		t.Fatalf("message %q", m)
	}
	// 10:00 Chicago is 11:00 New York: adjacent, fine.
	_, err = w.db.CreateBooking(ctx, book(student, b, offerB, monday, "10:00"))
	noErr(t, err)

	// Concurrently, under two different schedule locks, only the exclusion
	// constraint decides: exactly one of each overlapping pair wins.
	s2 := w.user(market.RoleStudent)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, req := range []market.NewBooking{book(s2, a, offerA, monday, "11:00"), book(s2, b, offerB, monday, "10:00")} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.db.CreateBooking(ctx, req)
		}()
	}
	wg.Wait()
	// a 11:00 NY = 16:00Z, b 10:00 CT = 16:00Z; b is already taken by student, so
	// s2's b booking fails on the instructor; s2's a booking wins.
	if errs[0] != nil || market.ErrorCode(errs[1]) != market.ESLOTUNAVAIL {
		t.Fatalf("errors %v", errs)
	}
}

func TestConcurrentStudentsOnOneSlotExactlyOneWins(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	const n = 40
	students := make([]string, n)
	for i := range students {
		students[i] = w.user(market.RoleStudent)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := "10:00"
			if i%2 == 1 {
				start = "10:30" // overlapping, not identical
			}
			_, errs[i] = w.db.CreateBooking(ctx, book(students[i], in, offer, monday, start))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch market.ErrorCode(err) {
		case "":
			won++
		case market.ESLOTUNAVAIL:
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 || w.count(`SELECT count(*) FROM bookings`) != 1 ||
		w.count(`SELECT count(*) FROM events WHERE type='booking.created'`) != 1 {
		t.Fatalf("%d winners, want exactly 1 booking and 1 booking.created", won)
	}
}

func TestIdempotencyKeyReplaysTheFirstResult(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	nb := book(student, in, offer, monday, "10:00")
	nb.IdempotencyKey = "key-1"

	const n = 30
	results := make([]*market.BookingResult, n)
	errs := make([]error, n)
	published := make([][]market.Event, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recorder{}
			results[i], errs[i] = w.db.WithPublisher(rec).CreateBooking(ctx, nb)
			published[i] = rec.take()
		}()
	}
	wg.Wait()
	replays := 0
	var first []byte
	for i := range n {
		noErr(t, errs[i])
		if results[i].Replay {
			replays++
			if len(published[i]) != 0 {
				t.Fatal("a replay published events")
			}
		}
		body, _ := json.Marshal(results[i].Booking)
		if first == nil {
			first = body
		} else if string(body) != string(first) {
			t.Fatalf("bodies differ:\n%s\n%s", first, body)
		}
	}
	if replays != n-1 || w.count(`SELECT count(*) FROM bookings`) != 1 ||
		w.count(`SELECT count(*) FROM events WHERE type='booking.created'`) != 1 {
		t.Fatalf("%d replays, want %d, and one booking", replays, n-1)
	}

	other := nb
	other.StartTime = "11:00"
	_, err := w.db.CreateBooking(ctx, other)
	wantCode(t, err, market.EIDEMPOTENCY)

	// Keys are per user: another student may use the same key.
	s2 := w.user(market.RoleStudent)
	mine := other
	mine.StudentID = s2
	r, err := w.db.CreateBooking(ctx, mine)
	noErr(t, err)
	if r.Replay {
		t.Fatal("another user's key replayed")
	}

	// A failed request does not spend its key: the retry runs for real.
	retry := book(s2, in, offer, monday, "10:00")
	retry.IdempotencyKey = "key-2"
	_, err = w.db.CreateBooking(ctx, retry)
	wantCode(t, err, market.ESLOTUNAVAIL)
	if n := w.count(`SELECT count(*) FROM idempotency_keys WHERE key='key-2'`); n != 0 {
		t.Fatalf("failed request stored its key")
	}
	_, err = w.db.CancelBooking(ctx, w.actor(student), results[0].Booking.ID, "", fixedNow)
	noErr(t, err)
	r, err = w.db.CreateBooking(ctx, retry)
	noErr(t, err)
	if r.Replay {
		t.Fatal("retry after a failure was a replay")
	}
}

func TestBookingsAcrossDaylightSavingChanges(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor("America/New_York")
	student := w.user(market.RoleStudent)
	october := func() time.Time { return time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC) }
	const fallBack, springForward = "2026-11-01", "2027-03-14"
	w.addWindow(in, fallBack, "00:00", "04:00", october)
	w.addWindow(in, springForward, "00:00", "05:00", october)
	during := func(id string) (lower, upper time.Time) {
		noErr(t, storetest.Pool(w.db).QueryRow(ctx, `SELECT lower(during), upper(during) FROM bookings WHERE id=$1`, id).Scan(&lower, &upper))
		return
	}
	at := func(date, start string, minutes int) market.NewBooking {
		return market.NewBooking{StudentID: student, InstructorID: in, InstructorServiceID: offer,
			Date: date, StartTime: start, DurationMinutes: minutes, Now: october}
	}

	t.Run("fall back: 01:30 for an hour lasts 60 real minutes", func(t *testing.T) {
		r, err := w.db.CreateBooking(ctx, at(fallBack, "01:30", 60))
		noErr(t, err)
		lo, up := during(r.Booking.ID)
		if up.Sub(lo) != time.Hour || !lo.Equal(time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)) {
			t.Fatalf("during [%s, %s), want 60 minutes from 05:30Z (01:30 EDT)", lo.UTC(), up.UTC())
		}
		if r.Booking.EndTime != "01:30" || r.Booking.EndsAt.Format(time.RFC3339) != "2026-11-01T01:30:00-05:00" {
			t.Fatalf("ends %s at %s, want 01:30 EST", r.Booking.EndTime, r.Booking.EndsAt)
		}
		// Wall 01:30-02:00 (EDT) is taken; 02:00 EST is after the lesson.
		if got := w.day(in, fallBack).Open; !reflect.DeepEqual(got, intervals("00:00", "01:30", "02:00", "04:00")) {
			t.Fatalf("open %v", got)
		}
		_, err = w.db.CreateBooking(ctx, at(fallBack, "00:45", 60)) // 00:45-01:45 EDT overlaps
		wantCode(t, err, market.ESLOTUNAVAIL)
		r2, err := w.db.CreateBooking(ctx, at(fallBack, "02:00", 30))
		noErr(t, err)
		lo2, _ := during(r2.Booking.ID)
		if lo2.Sub(up) != 30*time.Minute {
			t.Fatalf("02:00 EST starts %s after the 01:30 lesson ends, want 30m", lo2.Sub(up))
		}
	})

	t.Run("spring forward: 02:30 does not exist", func(t *testing.T) {
		_, err := w.db.CreateBooking(ctx, at(springForward, "02:30", 60))
		wantCode(t, err, market.EVALIDATION)
		if n := w.count(`SELECT count(*) FROM bookings WHERE date=$1`, springForward); n != 0 {
			t.Fatalf("%d bookings written", n)
		}
	})

	t.Run("spring forward: 01:30 for an hour ends at 03:30 wall time", func(t *testing.T) {
		r, err := w.db.CreateBooking(ctx, at(springForward, "01:30", 60))
		noErr(t, err)
		lo, up := during(r.Booking.ID)
		if up.Sub(lo) != time.Hour || r.Booking.EndTime != "03:30" {
			t.Fatalf("during %s, end %s; want 60 minutes ending 03:30", up.Sub(lo), r.Booking.EndTime)
		}
		if got := w.day(in, springForward).Open; !reflect.DeepEqual(got, intervals("00:00", "01:30", "03:30", "05:00")) {
			t.Fatalf("open %v", got)
		}
		_, err = w.db.CreateBooking(ctx, at(springForward, "03:00", 30))
		wantCode(t, err, market.ESLOTUNAVAIL)
	})
}

func TestCancelFreesTheSlot(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	s1, s2, stranger := w.user(market.RoleStudent), w.user(market.RoleStudent), w.user(market.RoleStudent)
	admin := w.user(market.RoleAdmin)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	r, err := w.db.CreateBooking(ctx, book(s1, in, offer, monday, "10:00"))
	noErr(t, err)
	id := r.Booking.ID

	_, err = w.db.CancelBooking(ctx, w.actor(stranger), id, "", fixedNow)
	wantCode(t, err, market.ENOTFOUND)
	afterStart := func() time.Time { return time.Date(2027, 1, 11, 15, 30, 0, 0, time.UTC) }
	_, err = w.db.CancelBooking(ctx, w.actor(s1), id, "", afterStart)
	wantCode(t, err, market.ECONFLICT)

	seq := w.seq(in)
	w.rec.take() // only the next write's events count
	b, err := w.db.CancelBooking(ctx, w.actor(s1), id, "sick", fixedNow)
	evs := w.rec.take()
	noErr(t, err)
	if b.Status != market.BookingCancelled || b.CancelledAt == nil {
		t.Fatalf("booking %+v", b)
	}
	types := map[string]string{}
	for _, e := range evs {
		if e.Type != market.EventNotificationCreated { // notifications_test.go
			types[e.Topic] = e.Type
		}
	}
	if types[market.UserTopic(in)] != market.EventBookingCancelled || types[market.UserTopic(s1)] != market.EventBookingCancelled || len(evs) != 4 {
		t.Fatalf("events %v", types)
	}
	if d := changedDays(t, evs); !reflect.DeepEqual(d[0].Open, intervals("09:00", "12:00")) || w.seq(in) != seq+1 {
		t.Fatalf("open after cancel %+v, seq %d", d, w.seq(in))
	}
	var by, reason string
	noErr(t, storetest.Pool(w.db).QueryRow(ctx, `SELECT cancelled_by, cancel_reason FROM bookings WHERE id=$1`, id).Scan(&by, &reason))
	if by != s1 || reason != "sick" {
		t.Fatalf("cancelled by %s for %q", by, reason)
	}
	_, err = w.db.CancelBooking(ctx, w.actor(s1), id, "", fixedNow)
	wantCode(t, err, market.ECONFLICT)

	r2, err := w.db.CreateBooking(ctx, book(s2, in, offer, monday, "10:00"))
	noErr(t, err)
	// The instructor and an admin may cancel too.
	_, err = w.db.CancelBooking(ctx, w.actor(in), r2.Booking.ID, "", fixedNow)
	noErr(t, err)
	r3, err := w.db.CreateBooking(ctx, book(s2, in, offer, monday, "10:00"))
	noErr(t, err)
	_, err = w.db.CancelBooking(ctx, w.actor(admin), r3.Booking.ID, "", fixedNow)
	noErr(t, err)
}

func TestRescheduleMovesAtomically(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	s1, s2, stranger := w.user(market.RoleStudent), w.user(market.RoleStudent), w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, tuesday, "09:00", "12:00", fixedNow)
	r1, err := w.db.CreateBooking(ctx, book(s1, in, offer, monday, "09:00"))
	noErr(t, err)
	_, err = w.db.CreateBooking(ctx, book(s2, in, offer, monday, "10:30"))
	noErr(t, err)
	id := r1.Booking.ID
	before, err := w.db.Booking(ctx, w.actor(s1), id)
	noErr(t, err)

	bad := []struct {
		name, date, start, code string
		actor                   string
	}{
		{"onto another lesson", monday, "10:00", market.ESLOTUNAVAIL, s1},
		{"outside the windows", monday, "11:30", market.ESLOTUNAVAIL, s1},
		{"onto a day without windows", "2027-01-13", "10:00", market.ESLOTUNAVAIL, s1},
		{"misaligned", tuesday, "10:05", market.EVALIDATION, s1},
		{"into the notice period", "2027-01-04", "08:30", market.EVALIDATION, s1},
		{"by a stranger", tuesday, "10:00", market.ENOTFOUND, stranger},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			seq := w.seq(in)
			events := w.count(`SELECT count(*) FROM events`)
			w.rec.take() // only the next write's events count
			_, _, err := w.db.RescheduleBooking(ctx, w.actor(tc.actor), id, tc.date, tc.start, fixedNow)
			evs := w.rec.take()
			wantCode(t, err, tc.code)
			after, err2 := w.db.Booking(ctx, w.actor(s1), id)
			noErr(t, err2)
			if !reflect.DeepEqual(before, after) || evs != nil || w.seq(in) != seq || w.count(`SELECT count(*) FROM events`) != events {
				t.Fatalf("booking or events changed:\n%+v\n%+v", before, after)
			}
		})
	}

	t.Run("overlapping its own old time is fine", func(t *testing.T) {
		b, _, err := w.db.RescheduleBooking(ctx, w.actor(s1), id, monday, "09:15", fixedNow)
		noErr(t, err)
		if b.StartTime != "09:15" || b.EndTime != "10:15" || b.ID != id {
			t.Fatalf("moved to %s-%s", b.StartTime, b.EndTime)
		}
	})

	t.Run("to another day announces both days", func(t *testing.T) {
		seq := w.seq(in)
		w.rec.take() // only the next write's events count
		b, _, err := w.db.RescheduleBooking(ctx, w.actor(in), id, tuesday, "10:00", fixedNow)
		evs := w.rec.take()
		noErr(t, err)
		if b.Date != tuesday || b.StartTime != "10:00" || b.PriceCents != before.PriceCents || !b.CreatedAt.Equal(before.CreatedAt) {
			t.Fatalf("booking %+v", b)
		}
		types := map[string]string{}
		for _, e := range evs {
			if e.Type != market.EventNotificationCreated { // notifications_test.go
				types[e.Topic] = e.Type
			}
		}
		if len(evs) != 4 || types[market.UserTopic(s1)] != market.EventBookingRescheduled || types[market.UserTopic(in)] != market.EventBookingRescheduled {
			t.Fatalf("events %v", types)
		}
		want := []market.OpenDay{
			{Date: monday, Open: intervals("09:00", "10:30", "11:30", "12:00")},
			{Date: tuesday, Open: intervals("09:00", "10:00", "11:00", "12:00")},
		}
		if d := changedDays(t, evs); !reflect.DeepEqual(d, want) || w.seq(in) != seq+1 {
			t.Fatalf("days %+v, seq %d -> %d", d, seq, w.seq(in))
		}
	})

	t.Run("to its current time changes nothing", func(t *testing.T) {
		seq := w.seq(in)
		w.rec.take() // only the next write's events count
		_, _, err := w.db.RescheduleBooking(ctx, w.actor(s1), id, tuesday, "10:00", fixedNow)
		evs := w.rec.take()
		noErr(t, err)
		if len(evs) != 0 || w.seq(in) != seq {
			t.Fatal("a no-op move appended events")
		}
	})

	t.Run("a cancelled lesson cannot move", func(t *testing.T) {
		_, err := w.db.CancelBooking(ctx, w.actor(s1), id, "", fixedNow)
		noErr(t, err)
		_, _, err = w.db.RescheduleBooking(ctx, w.actor(s1), id, tuesday, "11:00", fixedNow)
		wantCode(t, err, market.ECONFLICT)
	})
}

func TestMyLessonsByRoleScopeAndPage(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	in2, offer2 := w.instructor(market.DefaultTimezone)
	s1, s2 := w.user(market.RoleStudent), w.user(market.RoleStudent)
	admin := w.user(market.RoleAdmin)
	for _, d := range []string{monday, tuesday, "2027-01-13"} {
		w.addWindow(in, d, "09:00", "12:00", fixedNow)
		w.addWindow(in2, d, "13:00", "17:00", fixedNow)
	}
	var ids []string
	for _, d := range []string{monday, tuesday, "2027-01-13"} {
		r, err := w.db.CreateBooking(ctx, book(s1, in, offer, d, "09:00"))
		noErr(t, err)
		ids = append(ids, r.Booking.ID)
	}
	r, err := w.db.CreateBooking(ctx, book(s1, in2, offer2, monday, "13:00"))
	noErr(t, err)
	ids = append(ids, r.Booking.ID)
	r, err = w.db.CreateBooking(ctx, book(s2, in, offer, monday, "10:00"))
	noErr(t, err)
	other := r.Booking.ID
	_, err = w.db.CancelBooking(ctx, w.actor(s1), ids[2], "", fixedNow)
	noErr(t, err)

	list := func(actor string, q market.BookingQuery) []string {
		t.Helper()
		var out []string
		for {
			page, next, err := w.db.Bookings(ctx, w.actor(actor), q)
			noErr(t, err)
			for _, b := range page {
				out = append(out, b.ID)
			}
			if next == "" {
				return out
			}
			q.Cursor = next
		}
	}
	tuesdayNoon := func() time.Time { return time.Date(2027, 1, 12, 17, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		actor string
		q     market.BookingQuery
		want  []string
	}{
		{"student upcoming, soonest first, one per page", s1, market.BookingQuery{Scope: "upcoming", Limit: 1, Now: fixedNow}, []string{ids[0], ids[3], ids[1]}},
		{"student past holds the cancelled one", s1, market.BookingQuery{Scope: "past", Now: fixedNow}, []string{ids[2]}},
		{"student past after lessons ended, latest first", s1, market.BookingQuery{Scope: "past", Limit: 2, Now: tuesdayNoon}, []string{ids[2], ids[1], ids[3], ids[0]}},
		{"instructor sees lessons with them only", in, market.BookingQuery{Now: fixedNow}, []string{ids[0], other, ids[1]}},
		{"admin sees all", admin, market.BookingQuery{Now: fixedNow}, []string{ids[0], other, ids[3], ids[1]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.actor, tc.q); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
	for _, q := range []market.BookingQuery{{Scope: "soon"}, {Limit: 101}, {Cursor: "nope"}} {
		_, _, err := w.db.Bookings(ctx, w.actor(s1), q)
		wantCode(t, err, market.EVALIDATION)
	}

	t.Run("only participants and admins see one booking", func(t *testing.T) {
		for _, who := range []string{s1, in, admin} {
			b, err := w.db.Booking(ctx, w.actor(who), ids[0])
			noErr(t, err)
			if b.ID != ids[0] {
				t.Fatalf("got %s", b.ID)
			}
		}
		for _, who := range []string{s2, in2} {
			_, err := w.db.Booking(ctx, w.actor(who), ids[0])
			wantCode(t, err, market.ENOTFOUND)
		}
		_, err := w.db.Booking(ctx, w.actor(s1), "00000000-0000-0000-0000-000000000001")
		wantCode(t, err, market.ENOTFOUND)
	})
}

// BenchmarkCreateBooking books distinct 30-minute slots of one instructor
// one after another: the whole transaction (lock, checks, insert, events).
func BenchmarkCreateBooking(b *testing.B) {
	w := newSchedWorld(b)
	in, offer := w.instructor(market.DefaultTimezone)
	ctx := context.Background()
	students := make([]string, 48)
	for i := range students {
		students[i] = w.user(market.RoleStudent)
	}
	first, _ := market.ParseDate(monday)
	for i := range market.MaxRangeDays {
		w.addWindow(in, first.AddDate(0, 0, i).Format(time.DateOnly), "00:00", "24:00", fixedNow)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == 48*market.MaxRangeDays {
			b.Fatal("out of slots: lower -benchtime")
		}
		nb := book(students[i%48], in, offer, first.AddDate(0, 0, i/48).Format(time.DateOnly), market.Clock(i%48*30).String())
		nb.DurationMinutes = 30
		if _, err := w.db.CreateBooking(ctx, nb); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
