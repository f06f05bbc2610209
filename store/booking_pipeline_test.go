package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// The booking and cancel paths build their answer and the day's open time
// in Go from rows read before the write (booking_pipeline.go). These cases
// check both against what the database reads back afterwards, on ordinary
// and daylight-saving days, with other lessons on the day (some of them
// completed, which keep their time taken), and for late cancellations.
func TestBookingWritesAnswerAndAnnounceWhatTheDatabaseReadsBack(t *testing.T) {
	t.Parallel()
	// 2027-03-14 is spring-forward day and 2027-11-07 fall-back day in New York.
	tests := []struct {
		name, date, start string
		minutes           int
		others            []string // other lessons' starts on the day (60 min)
		completeOne       bool     // mark the first other lesson completed
		lateNotice        int      // >0: the instructor's notice, making the student's cancel late
	}{
		{name: "ordinary day, empty", date: monday, start: "09:30", minutes: 30},
		{name: "ordinary day, lessons around", date: monday, start: "10:00", minutes: 60, others: []string{"09:00", "11:00"}},
		{name: "a completed lesson keeps its time", date: monday, start: "10:00", minutes: 60, others: []string{"08:00"}, completeOne: true},
		{name: "spring forward", date: "2027-03-14", start: "01:30", minutes: 60, others: []string{"04:00"}},
		{name: "fall back", date: "2027-11-07", start: "01:00", minutes: 60, others: []string{"03:00"}},
		{name: "late cancel inside the notice", date: monday, start: "09:00", minutes: 60, lateNotice: market.MaxCancellationNoticeHours},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newSchedWorld(t)
			ctx := context.Background()
			in, offer := w.instructor(market.DefaultTimezone)
			student := w.user(market.RoleStudent)
			w.addWindow(in, tc.date, "00:00", "24:00", fixedNow)
			for i, s := range tc.others {
				r, err := w.db.CreateBooking(ctx, book(w.user(market.RoleStudent), in, offer, tc.date, s))
				noErr(t, err)
				if i == 0 && tc.completeOne {
					_, err := storetest.Pool(w.db).Exec(ctx, `UPDATE bookings SET status='completed', outcome_at=now() WHERE id=$1`, r.Booking.ID)
					noErr(t, err)
				}
			}
			if tc.lateNotice > 0 {
				_, err := storetest.Pool(w.db).Exec(ctx, `UPDATE instructor_profiles SET cancellation_notice_hours=$2 WHERE user_id=$1`, in, tc.lateNotice)
				noErr(t, err)
			}
			nb := book(student, in, offer, tc.date, tc.start)
			nb.DurationMinutes = tc.minutes
			nb.IdempotencyKey = "k-" + tc.name
			w.rec.take()
			r, err := w.db.CreateBooking(ctx, nb)
			noErr(t, err)
			checkAnswer(t, w, student, r.Booking)
			checkAnnounced(t, w, in, tc.date, w.rec.take())
			// The stored idempotent answer is the same booking.
			again, err := w.db.CreateBooking(ctx, nb)
			noErr(t, err)
			if !again.Replay || !reflect.DeepEqual(mustJSON(t, again.Booking), mustJSON(t, r.Booking)) {
				t.Fatalf("replay %v answered %s, want %s", again.Replay, mustJSON(t, again.Booking), mustJSON(t, r.Booking))
			}

			c, err := w.db.CancelBooking(ctx, w.actor(student), r.Booking.ID, "", fixedNow)
			noErr(t, err)
			if c.Late != (tc.lateNotice > 0) {
				t.Fatalf("late %v with notice %d h", c.Late, tc.lateNotice)
			}
			checkAnswer(t, w, student, c)
			checkAnnounced(t, w, in, tc.date, w.rec.take())
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	noErr(t, err)
	return string(b)
}

// checkAnswer: what a write answered is exactly what a later read returns.
func checkAnswer(t *testing.T, w *schedWorld, reader string, answered *market.Booking) {
	t.Helper()
	read, err := w.db.Booking(context.Background(), w.actor(reader), answered.ID)
	noErr(t, err)
	if a, r := mustJSON(t, answered), mustJSON(t, read); a != r {
		t.Fatalf("the write answered\n%s\nbut the booking reads\n%s", a, r)
	}
}

// checkAnnounced: the one availability.changed event of a write carries the
// day's open time as a fresh read computes it, and every notification
// event matches its row.
func checkAnnounced(t *testing.T, w *schedWorld, instructor, date string, evs []market.Event) {
	t.Helper()
	days := changedDays(t, evs)
	if want := w.day(instructor, date).Open; len(days) != 1 || days[0].Date != date || !reflect.DeepEqual(days[0].Open, want) {
		t.Fatalf("announced %+v, the day reads open %+v", days, want)
	}
	for _, e := range evs {
		if e.Type != market.EventNotificationCreated {
			continue
		}
		var n market.Notification
		noErr(t, json.Unmarshal(e.Data, &n))
		var created time.Time
		noErr(t, storetest.Pool(w.db).QueryRow(context.Background(), `SELECT created_at FROM notifications WHERE id=$1`, n.ID).Scan(&created))
		if !created.Equal(n.CreatedAt) {
			t.Fatalf("notification %s announced created_at %s, row has %s", n.ID, n.CreatedAt, created)
		}
	}
}
