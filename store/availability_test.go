package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// schedWorld is a database with a catalog service, for schedule tests.
type schedWorld struct {
	t       testing.TB
	db      *store.DB // publishes to rec
	rec     *recorder
	service string
	hash    string
	n       atomic.Int64
}

func newSchedWorld(t testing.TB) *schedWorld {
	t.Helper()
	rec := &recorder{}
	db := storetest.NewDB(t).WithPublisher(rec)
	w := &schedWorld{t: t, db: db, rec: rec}
	hash, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	noErr(t, err)
	w.hash = string(hash)
	var cat string
	noErr(t, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO categories (slug, name) VALUES ('music','Music') RETURNING id`).Scan(&cat))
	noErr(t, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO services (category_id, slug, name) VALUES ($1,'piano','Piano') RETURNING id`, cat).Scan(&w.service))
	return w
}

// user creates an account of role that has verified its email address
// (instructors must have, to be listed and booked; see setVerified).
func (w *schedWorld) user(role string) string {
	w.t.Helper()
	n := w.n.Add(1)
	u, err := w.db.CreateUser(context.Background(), market.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, n), PasswordHash: w.hash, FullName: fmt.Sprintf("%s %d", role, n), Role: role})
	noErr(w.t, err)
	w.setVerified(u.ID, true)
	return u.ID
}

// setVerified marks the account's email address verified (as opening the
// verification link does) or, with false, not verified.
func (w *schedWorld) setVerified(id string, verified bool) {
	w.t.Helper()
	_, err := storetest.Pool(w.db).Exec(context.Background(),
		`UPDATE users SET email_verified_at = CASE WHEN $2 THEN now() END WHERE id = $1`, id, verified)
	noErr(w.t, err)
}

func (w *schedWorld) actor(id string) *market.User {
	w.t.Helper()
	u, err := w.db.UserByID(context.Background(), id)
	noErr(w.t, err)
	return u
}

// instructor creates an instructor in tz offering the piano service
// (60 USD/h, 30 or 60 minutes); it returns their id and the offer id.
func (w *schedWorld) instructor(tz string) (string, string) {
	w.t.Helper()
	id := w.user(market.RoleInstructor)
	ctx := context.Background()
	_, err := storetest.Pool(w.db).Exec(ctx, `UPDATE instructor_profiles SET timezone=$2 WHERE user_id=$1`, id, tz)
	noErr(w.t, err)
	var offer string
	noErr(w.t, storetest.Pool(w.db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		VALUES ($1,$2,6000,'{30,60}') RETURNING id`, id, w.service).Scan(&offer))
	return id, offer
}

func (w *schedWorld) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	noErr(w.t, storetest.Pool(w.db).QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func (w *schedWorld) seq(instructor string) int64 {
	w.t.Helper()
	s, err := w.db.TopicSeq(context.Background(), market.AvailabilityTopic(instructor))
	noErr(w.t, err)
	return s
}

func (w *schedWorld) addWindow(instructor, date, start, end string, now func() time.Time) {
	w.t.Helper()
	_, err := w.db.AddWindow(context.Background(), instructor, date, market.WindowInput{Start: start, End: end}, now)
	noErr(w.t, err)
}

func (w *schedWorld) day(instructor, date string) market.Day {
	w.t.Helper()
	a, err := w.db.Availability(context.Background(), instructor, date, date)
	noErr(w.t, err)
	return a.Days[0]
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := market.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// fixedNow is a clock stopped at Monday 2027-01-04 08:00 in New York, so the
// calendar of these tests never goes stale.
func fixedNow() time.Time { return time.Date(2027, 1, 4, 13, 0, 0, 0, time.UTC) }

const (
	monday  = "2027-01-11" // the week after fixedNow
	tuesday = "2027-01-12"
)

func intervals(pairs ...string) []market.Interval {
	out := []market.Interval{}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, market.Interval{Start: pairs[i], End: pairs[i+1]})
	}
	return out
}

func windowSpans(d market.Day) []market.Interval {
	out := []market.Interval{}
	for _, w := range d.Windows {
		out = append(out, market.Interval{Start: w.Start, End: w.End})
	}
	return out
}

// changedDays decodes the one availability.changed event among evs.
func changedDays(t *testing.T, evs []market.Event) []market.OpenDay {
	t.Helper()
	var found []market.OpenDay
	n := 0
	for _, e := range evs {
		if e.Type != market.EventAvailabilityChanged {
			continue
		}
		n++
		var data market.AvailabilityChanged
		noErr(t, json.Unmarshal(e.Data, &data))
		found = data.Days
	}
	if n != 1 {
		t.Fatalf("%d availability.changed events, want 1", n)
	}
	return found
}

func TestAvailabilityReturnsOpenTimeWithoutBookingsAndTheCurrentSeq(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, monday, "14:00", "16:00", fixedNow)
	_, err := w.db.CreateBooking(context.Background(), market.NewBooking{StudentID: student, InstructorID: in,
		InstructorServiceID: offer, Date: monday, StartTime: "10:00", DurationMinutes: 60, Now: fixedNow})
	noErr(t, err)

	a, err := w.db.Availability(context.Background(), in, monday, "2027-01-13")
	noErr(t, err)
	if a.InstructorID != in || a.Timezone != market.DefaultTimezone || a.Seq != 3 {
		t.Fatalf("header = %s %s seq %d, want %s %s seq 3", a.InstructorID, a.Timezone, a.Seq, in, market.DefaultTimezone)
	}
	if len(a.Days) != 3 || a.Days[0].Date != monday || a.Days[2].Date != "2027-01-13" {
		t.Fatalf("days = %+v, want the 3 dates of the range", a.Days)
	}
	if got := windowSpans(a.Days[0]); !reflect.DeepEqual(got, intervals("09:00", "12:00", "14:00", "16:00")) {
		t.Errorf("windows = %v", got)
	}
	if got := a.Days[0].Open; !reflect.DeepEqual(got, intervals("09:00", "10:00", "11:00", "12:00", "14:00", "16:00")) {
		t.Errorf("open = %v, want the windows minus 10:00-11:00", got)
	}
	if a.Days[1].Windows == nil || a.Days[1].Open == nil || len(a.Days[1].Open) != 0 {
		t.Errorf("empty day = %+v, want empty (not null) lists", a.Days[1])
	}
	b, _ := json.Marshal(a.Days[1])
	if string(b) != `{"date":"2027-01-12","windows":[],"open":[]}` {
		t.Errorf("empty day JSON = %s", b)
	}
}

func TestAvailabilityRejectsBadRangesAndUnknownInstructors(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	tests := []struct {
		name, id, from, to, code string
	}{
		{"90 days is the maximum", in, "2027-01-01", "2027-03-31", ""},
		{"91 days is too long", in, "2027-01-01", "2027-04-01", market.EVALIDATION},
		{"to before from", in, "2027-01-10", "2027-01-09", market.EVALIDATION},
		{"malformed from", in, "2027-1-1", "2027-01-09", market.EVALIDATION},
		{"malformed to", in, "2027-01-01", "tomorrow", market.EVALIDATION},
		{"unknown instructor", "00000000-0000-0000-0000-000000000001", "2027-01-01", "2027-01-02", market.ENOTFOUND},
		{"a student is not an instructor", w.user(market.RoleStudent), "2027-01-01", "2027-01-02", market.ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := w.db.Availability(context.Background(), tc.id, tc.from, tc.to)
			wantCode(t, err, tc.code)
			if tc.code == "" && len(a.Days) != 90 {
				t.Fatalf("%d days, want 90", len(a.Days))
			}
		})
	}
}

func TestAddWindowRejectsInvalidWindowsAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	tests := []struct {
		name, date, start, end, field string
	}{
		{"overlaps an existing window", monday, "11:45", "13:00", "start"},
		{"contains an existing window", monday, "08:00", "13:00", "start"},
		{"ends before it starts", monday, "14:00", "13:00", "end"},
		{"is empty", monday, "14:00", "14:00", "end"},
		{"start misaligned", monday, "14:10", "15:00", "start"},
		{"end misaligned", monday, "14:00", "15:05", "end"},
		{"malformed time", monday, "2pm", "15:00", "start"},
		{"past date", "2027-01-03", "09:00", "10:00", "date"},
		{"malformed date", "11/01/2027", "09:00", "10:00", "date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.rec.take() // only the next write's events count
			_, err := w.db.AddWindow(context.Background(), in, tc.date, market.WindowInput{Start: tc.start, End: tc.end}, fixedNow)
			evs := w.rec.take()
			wantCode(t, err, market.EVALIDATION)
			var me *market.Error
			if !asError(err, &me) || me.Details[tc.field] == nil {
				t.Fatalf("details %v do not name %q", me.Details, tc.field)
			}
			if evs != nil {
				t.Fatal("events returned for a failed write")
			}
			if n := w.count(`SELECT count(*) FROM availability_windows`); n != 1 {
				t.Fatalf("%d windows, want 1", n)
			}
			if s := w.seq(in); s != 1 {
				t.Fatalf("seq %d, want 1", s)
			}
		})
	}
	t.Run("adjacent windows are fine and today is not the past", func(t *testing.T) {
		w.addWindow(in, monday, "12:00", "13:00", fixedNow)
		w.addWindow(in, "2027-01-04", "23:00", "24:00", fixedNow)
		if got := windowSpans(w.day(in, "2027-01-04")); !reflect.DeepEqual(got, intervals("23:00", "24:00")) {
			t.Fatalf("windows %v", got)
		}
	})
	t.Run("unknown instructor", func(t *testing.T) {
		_, err := w.db.AddWindow(context.Background(), w.user(market.RoleStudent), monday, market.WindowInput{Start: "09:00", End: "10:00"}, fixedNow)
		wantCode(t, err, market.ENOTFOUND)
	})
}

func asError(err error, target **market.Error) bool {
	e, ok := err.(*market.Error)
	if !ok {
		return false
	}
	*target = e
	return true
}

func TestAddWindowAppendsOneEventWithTheDaysOpenTime(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	w.rec.take() // only the next write's events count
	win, err := w.db.AddWindow(context.Background(), in, monday, market.WindowInput{Start: "09:00", End: "12:00"}, fixedNow)
	evs := w.rec.take()
	noErr(t, err)
	if win.ID == "" || win.Date != monday || win.Start != "09:00" || win.End != "12:00" {
		t.Fatalf("window %+v", win)
	}
	if len(evs) != 1 || evs[0].Seq != 1 || evs[0].Topic != market.AvailabilityTopic(in) || evs[0].TS.IsZero() {
		t.Fatalf("events %+v", evs)
	}
	want := []market.OpenDay{{Date: monday, Open: intervals("09:00", "12:00")}}
	if got := changedDays(t, evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("event days %+v, want %+v", got, want)
	}
	stored, err := w.db.EventsAfter(context.Background(), market.AvailabilityTopic(in), 0, 10)
	noErr(t, err)
	if len(stored) != 1 || stored[0].ID != evs[0].ID {
		t.Fatalf("stored events %+v", stored)
	}
}

func TestDeleteWindowKeepsBookingsAndOnlyTouchesOwnFutureWindows(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	other, _ := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	win, err := w.db.AddWindow(context.Background(), in, monday, market.WindowInput{Start: "09:00", End: "12:00"}, fixedNow)
	noErr(t, err)
	_, err = w.db.CreateBooking(context.Background(), market.NewBooking{StudentID: student, InstructorID: in,
		InstructorServiceID: offer, Date: monday, StartTime: "10:00", DurationMinutes: 60, Now: fixedNow})
	noErr(t, err)

	err = w.db.DeleteWindow(context.Background(), other, win.ID, fixedNow)
	wantCode(t, err, market.ENOTFOUND)
	err = w.db.DeleteWindow(context.Background(), in, "00000000-0000-0000-0000-000000000001", fixedNow)
	wantCode(t, err, market.ENOTFOUND)
	later := func() time.Time { return time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC) }
	err = w.db.DeleteWindow(context.Background(), in, win.ID, later)
	wantCode(t, err, market.EVALIDATION)

	seq := w.seq(in)
	w.rec.take() // only the next write's events count
	err = w.db.DeleteWindow(context.Background(), in, win.ID, fixedNow)
	evs := w.rec.take()
	noErr(t, err)
	if got := changedDays(t, evs); !reflect.DeepEqual(got, []market.OpenDay{{Date: monday, Open: intervals()}}) {
		t.Fatalf("event days %+v", got)
	}
	if w.seq(in) != seq+1 {
		t.Fatalf("seq %d, want %d", w.seq(in), seq+1)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE status='confirmed'`); n != 1 {
		t.Fatalf("%d confirmed bookings after deleting the window, want 1", n)
	}
	if d := w.day(in, monday); len(d.Windows) != 0 || len(d.Open) != 0 {
		t.Fatalf("day %+v, want no windows and nothing open", d)
	}
}

func week(days ...market.DayInput) []market.DayInput { return days }

func dayIn(date string, pairs ...string) market.DayInput {
	d := market.DayInput{Date: date}
	for i := 0; i < len(pairs); i += 2 {
		d.Windows = append(d.Windows, market.WindowInput{Start: pairs[i], End: pairs[i+1]})
	}
	return d
}

func TestReplaceWeekIsAllOrNothing(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	ctx := context.Background()
	_, err := w.db.ReplaceWeek(ctx, in, monday, week(
		dayIn(monday, "09:00", "12:00"),
		dayIn(tuesday, "09:00", "12:00"),
		dayIn("2027-01-13", "09:00", "10:00")), fixedNow)
	noErr(t, err)
	before, err := w.db.Availability(ctx, in, monday, "2027-01-17")
	noErr(t, err)

	bad := []struct {
		name      string
		weekStart string
		days      []market.DayInput
		field     string
	}{
		{"one misaligned window among good ones", monday, week(dayIn(monday, "08:00", "10:00"), dayIn(tuesday, "09:00", "09:50")), "days[1].windows[0].end"},
		{"end before start", monday, week(dayIn(monday, "10:00", "09:00")), "days[0].windows[0].end"},
		{"overlapping windows in the body", monday, week(dayIn(tuesday, "09:00", "11:00", "10:00", "12:00")), "days[0].windows[1]"},
		{"week start not a Monday", tuesday, week(dayIn(tuesday, "09:00", "10:00")), "week_start"},
		{"date outside the week", monday, week(dayIn("2027-01-18", "09:00", "10:00")), "days[0].date"},
		{"date twice", monday, week(dayIn(monday, "09:00", "10:00"), dayIn(monday, "11:00", "12:00")), "days[1].date"},
		{"past week", "2026-12-28", week(dayIn("2026-12-28", "09:00", "10:00")), "days[0].date"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			w.rec.take() // only the next write's events count
			_, err := w.db.ReplaceWeek(ctx, in, tc.weekStart, tc.days, fixedNow)
			evs := w.rec.take()
			wantCode(t, err, market.EVALIDATION)
			var me *market.Error
			if !asError(err, &me) || me.Details[tc.field] == nil {
				t.Fatalf("details %v do not name %q", me.Details, tc.field)
			}
			if evs != nil {
				t.Fatal("events for a failed write")
			}
			after, err := w.db.Availability(ctx, in, monday, "2027-01-17")
			noErr(t, err)
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("week changed:\n%+v\n%+v", before, after)
			}
		})
	}

	t.Run("days absent are cleared and unchanged days keep their windows", func(t *testing.T) {
		w.rec.take() // only the next write's events count
		got, err := w.db.ReplaceWeek(ctx, in, monday, week(
			dayIn(monday, "09:00", "12:00"),
			dayIn("2027-01-14", "13:00", "15:00", "15:00", "17:00")), fixedNow)
		evs := w.rec.take()
		noErr(t, err)
		wantDays := []market.OpenDay{
			{Date: tuesday, Open: intervals()},
			{Date: "2027-01-13", Open: intervals()},
			{Date: "2027-01-14", Open: intervals("13:00", "15:00", "15:00", "17:00")},
		}
		if d := changedDays(t, evs); !reflect.DeepEqual(d, wantDays) {
			t.Fatalf("event days %+v, want %+v", d, wantDays)
		}
		if got.Seq != before.Seq+1 || got.Seq != evs[0].Seq {
			t.Fatalf("returned seq %d, event seq %d, want %d", got.Seq, evs[0].Seq, before.Seq+1)
		}
		if len(got.Days) != 7 || got.Days[0].Windows[0].ID != before.Days[0].Windows[0].ID {
			t.Fatalf("unchanged Monday got new windows: %+v", got.Days[0])
		}
		if len(got.Days[1].Windows) != 0 || len(got.Days[3].Windows) != 2 {
			t.Fatalf("week %+v", got.Days)
		}
	})

	t.Run("an identical week is no change and no event", func(t *testing.T) {
		seq := w.seq(in)
		w.rec.take() // only the next write's events count
		_, err := w.db.ReplaceWeek(ctx, in, monday, week(
			dayIn("2027-01-14", "15:00", "17:00", "13:00", "15:00"),
			dayIn(monday, "09:00", "12:00")), fixedNow)
		evs := w.rec.take()
		noErr(t, err)
		if len(evs) != 0 || w.seq(in) != seq {
			t.Fatalf("%d events, seq %d -> %d", len(evs), seq, w.seq(in))
		}
	})
}

func TestReplaceWeekNeverChangesPastDays(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	ctx := context.Background()
	w.addWindow(in, "2027-01-04", "09:00", "10:00", fixedNow) // Monday, today at fixedNow
	wednesday := func() time.Time { return time.Date(2027, 1, 6, 15, 0, 0, 0, time.UTC) }
	_, err := w.db.ReplaceWeek(ctx, in, "2027-01-04", week(dayIn("2027-01-04", "11:00", "12:00")), wednesday)
	wantCode(t, err, market.EVALIDATION)
	_, err = w.db.ReplaceWeek(ctx, in, "2027-01-04", week(dayIn("2027-01-05", "11:00", "12:00")), wednesday)
	wantCode(t, err, market.EVALIDATION)
	// The week as read, edited from today on, is accepted: the past days
	// repeat what they hold (Tuesday: nothing).
	w.rec.take() // only the next write's events count
	_, err = w.db.ReplaceWeek(ctx, in, "2027-01-04", week(
		dayIn("2027-01-04", "09:00", "10:00"), dayIn("2027-01-05"), dayIn("2027-01-07", "11:00", "12:00")), wednesday)
	evs := w.rec.take()
	noErr(t, err)
	if got := windowSpans(w.day(in, "2027-01-04")); !reflect.DeepEqual(got, intervals("09:00", "10:00")) {
		t.Fatalf("past Monday changed to %v", got)
	}
	if d := changedDays(t, evs); len(d) != 1 || d[0].Date != "2027-01-07" {
		t.Fatalf("event days %+v, want only 2027-01-07", d)
	}
	// Absent past days are left alone too.
	_, err = w.db.ReplaceWeek(ctx, in, "2027-01-04", week(), wednesday)
	noErr(t, err)
	if got := windowSpans(w.day(in, "2027-01-04")); !reflect.DeepEqual(got, intervals("09:00", "10:00")) {
		t.Fatalf("past Monday changed to %v", got)
	}
}

func TestCopyWeekAndApplyPatternCopyWeekdayByWeekday(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	ctx := context.Background()
	_, err := w.db.ReplaceWeek(ctx, in, monday, week(
		dayIn(monday, "09:00", "12:00"),
		dayIn("2027-01-15", "14:00", "18:00")), fixedNow) // Friday
	noErr(t, err)
	w.addWindow(in, "2027-01-19", "07:00", "08:00", fixedNow) // Tuesday of the target week: cleared

	seq := w.seq(in)
	w.rec.take() // only the next write's events count
	got, err := w.db.CopyWeek(ctx, in, monday, "2027-01-18", fixedNow)
	evs := w.rec.take()
	noErr(t, err)
	if w.seq(in) != seq+1 || len(evs) != 1 {
		t.Fatalf("seq %d -> %d, %d events; want one change", seq, w.seq(in), len(evs))
	}
	wantWeek := map[string][]market.Interval{"2027-01-18": intervals("09:00", "12:00"), "2027-01-22": intervals("14:00", "18:00")}
	for _, d := range got.Days {
		want := wantWeek[d.Date]
		if want == nil {
			want = intervals()
		}
		if !reflect.DeepEqual(windowSpans(d), want) {
			t.Errorf("%s: windows %v, want %v", d.Date, windowSpans(d), want)
		}
	}
	if d := changedDays(t, evs); len(d) != 3 {
		t.Errorf("event days %+v, want Monday, Tuesday (cleared) and Friday", d)
	}

	seq = w.seq(in)
	w.rec.take() // only the next write's events count
	a, err := w.db.ApplyPattern(ctx, in, monday, "2027-01-25", "2027-02-14", fixedNow)
	evs = w.rec.take()
	noErr(t, err)
	if len(a.Days) != 21 || w.seq(in) != seq+1 || len(evs) != 1 {
		t.Fatalf("%d days, seq %d -> %d, %d events", len(a.Days), seq, w.seq(in), len(evs))
	}
	for _, d := range a.Days {
		date, _ := market.ParseDate(d.Date)
		var want []market.Interval
		switch date.Weekday() {
		case time.Monday:
			want = intervals("09:00", "12:00")
		case time.Friday:
			want = intervals("14:00", "18:00")
		default:
			want = intervals()
		}
		if !reflect.DeepEqual(windowSpans(d), want) {
			t.Errorf("%s (%s): windows %v, want %v", d.Date, date.Weekday(), windowSpans(d), want)
		}
	}
	if d := changedDays(t, evs); len(d) != 6 {
		t.Errorf("%d changed days, want 6 (3 Mondays, 3 Fridays)", len(d))
	}

	bad := []struct {
		name string
		fn   func() error
	}{
		{"pattern range over 90 days", func() error {
			_, err := w.db.ApplyPattern(ctx, in, monday, "2027-02-01", "2027-05-02", fixedNow)
			return err
		}},
		{"pattern starting in the past", func() error {
			_, err := w.db.ApplyPattern(ctx, in, monday, "2027-01-03", "2027-01-10", fixedNow)
			return err
		}},
		{"pattern source not a Monday", func() error {
			_, err := w.db.ApplyPattern(ctx, in, tuesday, "2027-02-01", "2027-02-10", fixedNow)
			return err
		}},
		{"copy onto a past week", func() error {
			_, err := w.db.CopyWeek(ctx, in, monday, "2026-12-28", fixedNow)
			return err
		}},
		{"copy target not a Monday", func() error {
			_, err := w.db.CopyWeek(ctx, in, monday, "2027-02-02", fixedNow)
			return err
		}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			seq := w.seq(in)
			wantCode(t, tc.fn(), market.EVALIDATION)
			if w.seq(in) != seq {
				t.Fatal("seq moved on a failed write")
			}
		})
	}
}

func TestEveryCommittedScheduleChangeAddsExactlyOneToSeq(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	ctx := context.Background()
	steps := []struct {
		name    string
		do      func() ([]market.Event, error)
		changes bool
	}{
		{"add window", func() ([]market.Event, error) {
			w.rec.take() // only the next write's events count
			_, err := w.db.AddWindow(ctx, in, monday, market.WindowInput{Start: "09:00", End: "12:00"}, fixedNow)
			evs := w.rec.take()
			return evs, err
		}, true},
		{"failed overlapping add", func() ([]market.Event, error) {
			w.rec.take() // only the next write's events count
			_, err := w.db.AddWindow(ctx, in, monday, market.WindowInput{Start: "10:00", End: "11:00"}, fixedNow)
			evs := w.rec.take()
			return evs, err
		}, false},
		{"booking", func() ([]market.Event, error) {
			_, err := w.db.CreateBooking(ctx, market.NewBooking{StudentID: student, InstructorID: in, InstructorServiceID: offer,
				Date: monday, StartTime: "09:00", DurationMinutes: 60, Now: fixedNow})
			return w.rec.take(), err
		}, true},
		{"failed booking", func() ([]market.Event, error) {
			_, err := w.db.CreateBooking(ctx, market.NewBooking{StudentID: student, InstructorID: in, InstructorServiceID: offer,
				Date: monday, StartTime: "09:30", DurationMinutes: 60, Now: fixedNow})
			return w.rec.take(), err
		}, false},
		{"replace week", func() ([]market.Event, error) {
			w.rec.take() // only the next write's events count
			_, err := w.db.ReplaceWeek(ctx, in, monday, week(dayIn(monday, "09:00", "13:00")), fixedNow)
			evs := w.rec.take()
			return evs, err
		}, true},
	}
	for _, st := range steps {
		seq := w.seq(in)
		events := w.count(`SELECT count(*) FROM events`)
		evs, err := st.do()
		if st.changes != (err == nil) {
			t.Fatalf("%s: err %v", st.name, err)
		}
		want := seq
		if st.changes {
			want++
		}
		if got := w.seq(in); got != want {
			t.Fatalf("%s: seq %d, want %d", st.name, got, want)
		}
		if !st.changes && w.count(`SELECT count(*) FROM events`) != events {
			t.Fatalf("%s: a failed write left events", st.name)
		}
		for _, e := range evs {
			if e.Topic == market.AvailabilityTopic(in) && e.Seq != want {
				t.Fatalf("%s: event seq %d, want %d", st.name, e.Seq, want)
			}
		}
	}
}

func TestAvailabilitySeqAlwaysMatchesTheDataReturned(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	in, _ := w.instructor(market.DefaultTimezone)
	ctx := context.Background()
	const adds = 32 // 08:00-16:00 in 15-minute windows: one window and one seq each
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		for i := range adds {
			s := market.Clock(8*60 + i*15)
			if _, err := w.db.AddWindow(ctx, in, monday, market.WindowInput{Start: s.String(), End: (s + 15).String()}, fixedNow); err != nil {
				errs <- err
				return
			}
		}
	}()
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		a, err := w.db.Availability(ctx, in, monday, monday)
		noErr(t, err)
		if n := int64(len(a.Days[0].Windows)); n != a.Seq {
			t.Fatalf("read %d: %d windows with seq %d", reads, n, a.Seq)
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if s := w.seq(in); s != adds {
		t.Fatalf("seq %d, want %d", s, adds)
	}
	t.Logf("%d consistent reads during %d writes", reads, adds)
}

// BenchmarkAvailabilityWeek reads one week with windows and bookings on
// every day, the hot path of students browsing.
func BenchmarkAvailabilityWeek(b *testing.B) {
	w := newSchedWorld(b)
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	ctx := context.Background()
	for i := range 7 {
		d, _ := market.ParseDate(monday)
		date := d.AddDate(0, 0, i).Format(time.DateOnly)
		w.addWindow(in, date, "09:00", "12:00", fixedNow)
		w.addWindow(in, date, "13:00", "18:00", fixedNow)
		if _, err := w.db.CreateBooking(ctx, book(student, in, offer, date, "10:00")); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.db.Availability(ctx, in, monday, "2027-01-17"); err != nil {
			b.Fatal(err)
		}
	}
}
