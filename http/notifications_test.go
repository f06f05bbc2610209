package http

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/notify"
	"instainstru/store"
	"instainstru/store/storetest"
)

const testPublicURL = "http://hub.test"

// withNotify runs job workers on the node, sending to smtpURL ("" = no
// SMTP), with quick retries and polling so tests need no long sleeps.
func withNotify(smtpURL string, workers int) rtNodeOpt {
	return func(c *NodeConfig) {
		c.Notify = notify.Config{Workers: workers, SMTPURL: smtpURL, PublicURL: testPublicURL,
			Backoff: func(int) time.Duration { return 200 * time.Millisecond }, PollInterval: 100 * time.Millisecond}
	}
}

// notifyWorld: one database, a Mailpit, an instructor (Sarah Chen, Upper
// West Side, Piano 09:00–12:00 three days ahead) and a student (Emma
// Johnson), both with a WebSocket open.
type notifyWorld struct {
	t                    testing.TB
	db                   *store.DB
	mp                   *storetest.Mailpit
	node                 *rtNode
	date                 string
	inst, instTok, instE string
	stud, studTok, studE string
	offer                string
	instWS, studWS       *rtClient
}

func newNotifyWorld(t testing.TB, nodeOpts ...rtNodeOpt) *notifyWorld {
	t.Helper()
	w := &notifyWorld{t: t, db: storetest.NewDB(t), mp: storetest.StartMailpit(t)}
	if len(nodeOpts) == 0 {
		nodeOpts = []rtNodeOpt{withNotify(w.mp.SMTPURL(), 4)}
	}
	w.node = startNode(t, w.db, "", "", "n1", nodeOpts...)
	loc, _ := time.LoadLocation("America/New_York")
	w.date = time.Now().In(loc).AddDate(0, 0, 3).Format("2006-01-02")
	w.instTok, w.inst, w.offer = w.node.bookableInstructor(w.db, w.date)
	w.studTok, w.stud, w.studE = w.node.registerEmail(market.RoleStudent)
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE users SET full_name = 'Sarah Chen' WHERE id = $1`, []any{w.inst}},
		{`UPDATE users SET full_name = 'Emma Johnson' WHERE id = $1`, []any{w.stud}},
		{`UPDATE instructor_profiles SET areas = '{"Upper West Side","Harlem"}' WHERE user_id = $1`, []any{w.inst}},
	} {
		if _, err := storetest.Pool(w.db).Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := storetest.Pool(w.db).QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, w.inst).Scan(&w.instE); err != nil {
		t.Fatal(err)
	}
	w.instWS = dialWS(t, w.node.ws, bearer(w.instTok))
	w.instWS.expect("welcome")
	w.studWS = dialWS(t, w.node.ws, bearer(w.studTok))
	w.studWS.expect("welcome")
	return w
}

// book books the student at start for an hour and returns the booking.
func (w *notifyWorld) book(start string) market.Booking {
	w.t.Helper()
	var b market.Booking
	if st := w.node.call("POST", "/api/v1/bookings", w.studTok, map[string]any{"instructor_id": w.inst,
		"instructor_service_id": w.offer, "date": w.date, "start_time": start, "duration_minutes": 60}, &b); st != 201 {
		w.t.Fatalf("book %s: %d", start, st)
	}
	return b
}

// nextNotification waits for the next notification.created on c.
func nextNotification(t testing.TB, c *rtClient) market.Notification {
	t.Helper()
	for {
		f := c.next(frameWait)
		if f.Type == "event" && f.Event == market.EventNotificationCreated {
			var n market.Notification
			mustJSON(t, f.Data, &n)
			return n
		}
	}
}

// noNotification fails if a notification.created reaches c within d.
func noNotification(t testing.TB, c *rtClient, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if f.Type == "event" && f.Event == market.EventNotificationCreated {
				t.Fatalf("unexpected notification %s", f.Data)
			}
		case <-deadline:
			return
		}
	}
}

// count runs a count(*) query.
func (w *notifyWorld) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := storetest.Pool(w.db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// when is how a notification writes the lesson at start (one hour).
func (w *notifyWorld) when(start string) string {
	loc, _ := time.LoadLocation("America/New_York")
	s, _ := time.ParseInLocation("2006-01-02 15:04", w.date+" "+start, loc)
	return market.LessonText{Start: s, End: s.Add(time.Hour)}.When()
}

func TestBookingChangesNotifyTheRightPartyInAppLiveAndByEmail(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)

	b := w.book("10:00")
	cases := []struct {
		name       string
		ws         *rtClient
		to         string
		kind       string
		title      string
		body       string
		subjectHas string
	}{
		{"instructor hears who booked what, when and where", w.instWS, w.instE, market.NotifyBookingCreated, "New booking",
			"Emma Johnson booked Piano, " + w.when("10:00") + ", Upper West Side", "New booking: Emma Johnson booked Piano"},
		{"student gets the confirmation", w.studWS, w.studE, market.NotifyBookingConfirmed, "Lesson confirmed",
			"Piano with Sarah Chen, " + w.when("10:00") + ", Upper West Side", "Lesson confirmed: Piano with Sarah Chen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := nextNotification(t, tc.ws)
			if n.Kind != tc.kind || n.Title != tc.title || n.Body != tc.body || n.BookingID == nil || *n.BookingID != b.ID || n.ReadAt != nil {
				t.Fatalf("pushed %+v, want %s %q %q", n, tc.kind, tc.title, tc.body)
			}
			msgs := w.mp.WaitFor(1, 10*time.Second, storetest.To(tc.to))
			if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, tc.subjectHas) {
				t.Fatalf("emails to %s: %+v", tc.to, msgs)
			}
			m := w.mp.Message(msgs[0].ID)
			link := testPublicURL + "/#/lessons?booking=" + b.ID
			if !strings.Contains(m.Text, tc.body) || !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) ||
				!strings.Contains(m.HTML, "Upper West Side") || !strings.HasSuffix(m.MessageID, "@instainstru.local") {
				t.Fatalf("email %q\ntext:\n%s\nhtml:\n%s", m.MessageID, m.Text, m.HTML)
			}
		})
	}

	t.Run("reschedule tells only the instructor (the student moved it)", func(t *testing.T) {
		var moved market.Booking
		if st := w.node.call("POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.studTok,
			map[string]any{"date": w.date, "start_time": "11:00"}, &moved); st != 200 {
			t.Fatalf("reschedule: %d", st)
		}
		n := nextNotification(t, w.instWS)
		if n.Kind != market.NotifyBookingRescheduled || n.Body != "Emma Johnson moved Piano to "+w.when("11:00")+", Upper West Side" {
			t.Fatalf("pushed %+v", n)
		}
		w.mp.WaitFor(2, 10*time.Second, storetest.To(w.instE))
		noNotification(t, w.studWS, 300*time.Millisecond)
		if got := w.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, w.stud); got != 1 {
			t.Fatalf("student has %d notifications, want only the confirmation", got)
		}
	})

	t.Run("cancel by the instructor tells only the student", func(t *testing.T) {
		if st := w.node.call("POST", "/api/v1/bookings/"+b.ID+"/cancel", w.instTok, map[string]any{}, nil); st != 200 {
			t.Fatalf("cancel: %d", st)
		}
		n := nextNotification(t, w.studWS)
		if n.Kind != market.NotifyBookingCancelled || n.Body != "Sarah Chen cancelled Piano, "+w.when("11:00")+", Upper West Side" {
			t.Fatalf("pushed %+v", n)
		}
		msgs := w.mp.WaitFor(2, 10*time.Second, storetest.To(w.studE))
		if !strings.HasPrefix(msgs[0].Subject, "Lesson cancelled") {
			t.Fatalf("newest email to student %q", msgs[0].Subject)
		}
	})

	t.Run("counted by kind, every email sent exactly once", func(t *testing.T) {
		for kind, want := range map[string]float64{market.NotifyBookingCreated: 1, market.NotifyBookingConfirmed: 1,
			market.NotifyBookingRescheduled: 1, market.NotifyBookingCancelled: 1} {
			if got := w.node.metric(t, "instainstru_notifications_created_total", "kind", kind); got != want {
				t.Errorf("%s counted %v", kind, got)
			}
		}
		if got := len(w.mp.Messages()); got != 4 {
			t.Fatalf("%d emails, want 4", got)
		}
		if got := w.count(`SELECT count(*) FROM emails WHERE sent_at IS NOT NULL AND message_id IS NOT NULL`); got != 4 {
			t.Fatalf("%d emails recorded as sent", got)
		}
	})
}

func TestRetriedEmailJobsNeverSendTwice(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.book("10:00")
	w.mp.WaitFor(2, 10*time.Second, nil)
	// Run every finished email job again, as a retry after a lost ack would.
	if _, err := storetest.Pool(w.db).Exec(context.Background(), `UPDATE river_job SET state = 'available', finalized_at = NULL,
		scheduled_at = now() WHERE kind = 'email'`); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, "the rerun jobs to finish", func() bool {
		return w.node.metric(t, "instainstru_emails_total", "result", "duplicate_skipped") >= 2
	})
	if got := len(w.mp.Messages()); got != 2 {
		t.Fatalf("%d emails after the rerun, want 2", got)
	}
}

func TestACommittedBookingIsEmailedOnceByAnotherNodeWhenItsNodeDies(t *testing.T) {
	t.Parallel()
	// Node A serves the booking but runs no workers (as if it died right
	// after the commit, before any worker of its own could send).
	w := newNotifyWorld(t, withNotify("", 0))
	b := w.book("10:00")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.node.node.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.count(`SELECT count(*) FROM river_job WHERE kind = 'email' AND state = 'available'`); got != 2 {
		t.Fatalf("%d email jobs waiting, want 2", got)
	}
	// Two more nodes with workers come up; the jobs go out once in all.
	startNode(t, w.db, "", "", "n2", withNotify(w.mp.SMTPURL(), 4))
	startNode(t, w.db, "", "", "n3", withNotify(w.mp.SMTPURL(), 4))
	msgs := w.mp.WaitFor(2, 10*time.Second, nil)
	time.Sleep(500 * time.Millisecond) // give a duplicate the time to show
	if got := len(w.mp.Messages()); got != 2 || len(msgs) != 2 {
		t.Fatalf("%d emails, want 2", got)
	}
	for _, m := range w.mp.Messages() {
		if !strings.Contains(w.mp.Message(m.ID).Text, b.ID) {
			t.Fatalf("email %q does not link booking %s", m.Subject, b.ID)
		}
	}
}

func TestEmailsWaitForTheMailServerAndAreDeliveredOnceWhenItIsBack(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.mp.Stop()
	w.book("10:00")
	eventually.True(t, 10*time.Second, "two failed tries of each of the two emails", func() bool {
		return w.node.metric(t, "instainstru_emails_total", "result", "retried") >= 4
	})
	if got := w.count(`SELECT count(*) FROM emails WHERE sent_at IS NULL AND last_error LIKE '%unreachable%'`); got != 2 {
		t.Fatalf("%d emails waiting with their error, want 2", got)
	}
	w.mp.Start()
	w.mp.WaitFor(2, 10*time.Second, nil)
	time.Sleep(500 * time.Millisecond) // give a third (duplicate) email the time to show
	if got := len(w.mp.Messages()); got != 2 {
		t.Fatalf("%d emails after the server came back, want 2", got)
	}
	if got := w.node.metric(t, "instainstru_emails_total", "result", "sent"); got != 2 {
		t.Fatalf("sent counted %v", got)
	}
}

func TestRejectedBookingNotifiesNoOne(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	w.book("10:00")
	nextNotification(t, w.instWS)
	otherTok, _ := w.node.register(market.RoleStudent)
	// Periodic upkeep jobs are inserted by whichever node leads, at any time; they are not this booking's.
	const rows = `SELECT (SELECT count(*) FROM notifications) + (SELECT count(*) FROM emails) + (SELECT count(*) FROM river_job WHERE kind <> 'periodic')`
	before := w.count(rows)
	if st := w.node.call("POST", "/api/v1/bookings", otherTok, map[string]any{"instructor_id": w.inst,
		"instructor_service_id": w.offer, "date": w.date, "start_time": "10:30", "duration_minutes": 60}, nil); st != 409 {
		t.Fatalf("overlapping booking: %d, want 409", st)
	}
	if after := w.count(rows); after != before {
		t.Fatalf("rows %d → %d after a rejected booking", before, after)
	}
	noNotification(t, w.instWS, 300*time.Millisecond)
}

func TestInboxListsMarksReadAndKeepsSettings(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	ids := map[string]bool{}
	for _, start := range []string{"09:00", "10:00", "11:00"} {
		w.book(start)
		ids[nextNotification(t, w.instWS).ID] = true
	}
	type page struct {
		Items      []market.Notification `json:"items"`
		Unread     int                   `json:"unread"`
		NextCursor *string               `json:"next_cursor"`
	}
	var p1, p2 page
	if st := w.node.call("GET", "/api/v1/notifications?limit=2", w.instTok, nil, &p1); st != 200 || len(p1.Items) != 2 || p1.Unread != 3 || p1.NextCursor == nil {
		t.Fatalf("page 1: %d %+v", st, p1)
	}
	if !p1.Items[0].CreatedAt.After(p1.Items[1].CreatedAt) || !strings.Contains(p1.Items[0].Body, w.when("11:00")) {
		t.Fatalf("not newest first: %+v", p1.Items)
	}
	if st := w.node.call("GET", "/api/v1/notifications?limit=2&cursor="+*p1.NextCursor, w.instTok, nil, &p2); st != 200 || len(p2.Items) != 1 || p2.NextCursor != nil {
		t.Fatalf("page 2: %d %+v", st, p2)
	}

	// Another user's ids are ignored; the owner's other devices hear of reads.
	studentsOwn := nextNotification(t, w.studWS).ID
	if st := w.node.call("POST", "/api/v1/notifications/read", w.instTok, map[string]any{"ids": []string{p1.Items[0].ID, studentsOwn}}, nil); st != 204 {
		t.Fatalf("read: %d", st)
	}
	var unread page
	w.node.call("GET", "/api/v1/notifications?unread=true", w.instTok, nil, &unread)
	if unread.Unread != 2 || len(unread.Items) != 2 || ids[p1.Items[0].ID] && unread.Items[0].ID == p1.Items[0].ID {
		t.Fatalf("unread after marking one: %+v", unread)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE id = $1 AND read_at IS NULL`, studentsOwn); n != 1 {
		t.Fatal("the instructor marked the student's notification read")
	}
	for {
		f := w.instWS.next(frameWait)
		if f.Type == "event" && f.Event == store.EventNotificationsRead {
			var d struct{ Unread int }
			json.Unmarshal(f.Data, &d) //nolint:errcheck
			if d.Unread != 2 {
				t.Fatalf("notification.read says %d unread", d.Unread)
			}
			break
		}
	}
	if st := w.node.call("POST", "/api/v1/notifications/read", w.instTok, map[string]any{"all": true}, nil); st != 204 {
		t.Fatalf("read all: %d", st)
	}
	w.node.call("GET", "/api/v1/notifications", w.instTok, nil, &unread)
	if unread.Unread != 0 || unread.Items[0].ReadAt == nil {
		t.Fatalf("after read all: %+v", unread)
	}

	t.Run("bad input is a 422", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/notifications?limit=0", nil},
			{"GET", "/api/v1/notifications?unread=maybe", nil},
			{"GET", "/api/v1/notifications?cursor=nonsense", nil},
			{"POST", "/api/v1/notifications/read", map[string]any{}},
			{"POST", "/api/v1/notifications/read", map[string]any{"ids": []string{"not-a-uuid"}}},
			{"POST", "/api/v1/notifications/read", map[string]any{"ids": []string{p1.Items[0].ID}, "all": true}},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{"reminder_hours": []int{0}}},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{"reminder_hours": []int{2, 2}}},
			{"PUT", "/api/v1/me/notification-settings", map[string]any{"reminder_hours": []int{1, 2, 3, 4, 5}}},
		} {
			if st := w.node.call(tc.method, tc.path, w.instTok, tc.body, nil); st != 422 {
				t.Errorf("%s %s %v: %d, want 422", tc.method, tc.path, tc.body, st)
			}
		}
	})

	t.Run("settings default, change partly, and turn email and reminders off", func(t *testing.T) {
		var s market.NotificationSettings
		if st := w.node.call("GET", "/api/v1/me/notification-settings", w.studTok, nil, &s); st != 200 ||
			!s.Email || !s.Reminders || len(s.ReminderHours) != 2 {
			t.Fatalf("defaults: %d %+v", st, s)
		}
		if st := w.node.call("PUT", "/api/v1/me/notification-settings", w.instTok, map[string]any{"email": false, "reminders": false}, &s); st != 200 ||
			s.Email || s.Reminders || len(s.ReminderHours) != 2 {
			t.Fatalf("put: %d %+v", st, s)
		}
		emails := w.count(`SELECT count(*) FROM emails WHERE user_id = $1`, w.inst)
		reminders := w.count(`SELECT count(*) FROM river_job WHERE kind = 'lesson_reminder' AND args->>'user_id' = $1`, w.inst)
		// The last hour of the morning: 09–12 is booked by now.
		if _, err := storetest.Pool(w.db).Exec(context.Background(), `DELETE FROM bookings WHERE instructor_id = $1 AND start_time = '11:00'`, w.inst); err != nil {
			t.Fatal(err)
		}
		b := w.book("11:00")
		if n := nextNotification(t, w.instWS); n.BookingID == nil || *n.BookingID != b.ID {
			t.Fatalf("in-app notification still expected, got %+v", n)
		}
		if got := w.count(`SELECT count(*) FROM emails WHERE user_id = $1`, w.inst); got != emails {
			t.Fatalf("email queued although turned off")
		}
		if got := w.count(`SELECT count(*) FROM river_job WHERE kind = 'lesson_reminder' AND args->>'user_id' = $1`, w.inst); got != reminders {
			t.Fatalf("reminders scheduled although turned off")
		}
	})
}

func TestNotificationRoutesNeedASignedInUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	assertProtected(t, ts, []protectedRoute{
		{method: "GET", path: "/api/v1/notifications"},
		{method: "POST", path: "/api/v1/notifications/read", body: map[string]any{"all": true}},
		{method: "GET", path: "/api/v1/me/notification-settings"},
		{method: "PUT", path: "/api/v1/me/notification-settings", body: map[string]any{"email": false}},
	})
}

func TestRemindersFireAtTheRightInstantAndNeverForAMovedOrCancelledLesson(t *testing.T) {
	t.Parallel()
	w := newNotifyWorld(t)
	ctx := context.Background()
	// Sunday 14 March 2027: New York springs forward at 02:00, so the day
	// before a 10:00 lesson is 23 hours of wall clock away, not 24.
	const dstDay = "2027-03-14"
	if st := w.node.call("POST", "/api/v1/instructors/me/availability", w.instTok,
		map[string]string{"date": dstDay, "start": "09:00", "end": "12:00"}, nil); st != 201 {
		t.Fatalf("window: %d", st)
	}
	w.date = dstDay
	b := w.book("10:00")
	type job struct {
		User  string
		Hours int
		At    time.Time
	}
	jobsFor := func(startsAt time.Time) []job {
		rows, err := storetest.Pool(w.db).Query(ctx, `SELECT args->>'user_id', (args->>'hours')::int, scheduled_at FROM river_job
			WHERE kind = 'lesson_reminder' AND (args->>'starts_at')::timestamptz = $1 ORDER BY 2 DESC, 1`, startsAt)
		if err != nil {
			t.Fatal(err)
		}
		js, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (job, error) {
			var j job
			return j, r.Scan(&j.User, &j.Hours, &j.At)
		})
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	start := time.Date(2027, 3, 14, 14, 0, 0, 0, time.UTC) // 10:00 EDT
	js := jobsFor(start)
	if len(js) != 4 {
		t.Fatalf("reminder jobs %+v, want 24 h and 1 h for both", js)
	}
	for _, j := range js {
		if want := start.Add(-time.Duration(j.Hours) * time.Hour); !j.At.Equal(want) {
			t.Fatalf("%d h reminder at %s, want %s", j.Hours, j.At.UTC(), want)
		}
	}
	if !js[0].At.Equal(time.Date(2027, 3, 13, 14, 0, 0, 0, time.UTC)) { // 09:00 EST on Saturday
		t.Fatalf("24 h reminder at %s", js[0].At.UTC())
	}

	var moved market.Booking
	if st := w.node.call("POST", "/api/v1/bookings/"+b.ID+"/reschedule", w.instTok,
		map[string]any{"date": dstDay, "start_time": "11:00"}, &moved); st != 200 {
		t.Fatalf("reschedule: %d", st)
	}
	if got := jobsFor(start.Add(time.Hour)); len(got) != 4 {
		t.Fatalf("the new time has %d reminders, want 4", len(got))
	}
	// Make every reminder due now (the old time's and the new time's).
	runReminders := func(want float64) {
		t.Helper()
		if _, err := storetest.Pool(w.db).Exec(ctx, `UPDATE river_job SET state = 'available', finalized_at = NULL,
			scheduled_at = now() WHERE kind = 'lesson_reminder'`); err != nil {
			t.Fatal(err)
		}
		eventually.True(t, 10*time.Second, "the reminder runs", func() bool {
			return w.node.metric(t, "instainstru_reminders_total") >= want
		})
	}
	runReminders(8)
	if sent, stale := w.node.metric(t, "instainstru_reminders_total", "result", "sent"),
		w.node.metric(t, "instainstru_reminders_total", "result", "stale"); sent != 4 || stale != 4 {
		t.Fatalf("sent %v stale %v, want the new time's 4 sent and the old time's 4 doing nothing", sent, stale)
	}
	var n24, n1 int
	if err := storetest.Pool(w.db).QueryRow(ctx, `SELECT count(*) FILTER (WHERE title = 'Lesson in 24 hours'),
		count(*) FILTER (WHERE title = 'Lesson in 1 hour') FROM notifications
		WHERE kind = 'lesson.reminder' AND body LIKE '%Sun Mar 14, 11:00–12:00, Upper West Side'`).Scan(&n24, &n1); err != nil {
		t.Fatal(err)
	}
	if n24 != 2 || n1 != 2 {
		t.Fatalf("reminders for 11:00: %d of 24 h, %d of 1 h; want 2 each", n24, n1)
	}
	w.mp.WaitFor(4, 10*time.Second, func(m storetest.MailSummary) bool { return strings.HasPrefix(m.Subject, "Lesson in ") })
	if w.node.metric(t, "instainstru_reminder_lag_seconds") == 0 {
		t.Fatal("reminder lag not observed")
	}

	if st := w.node.call("POST", "/api/v1/bookings/"+b.ID+"/cancel", w.studTok, map[string]any{}, nil); st != 200 {
		t.Fatalf("cancel: %d", st)
	}
	runReminders(16)
	if got := w.count(`SELECT count(*) FROM notifications WHERE kind = 'lesson.reminder'`); got != 4 {
		t.Fatalf("%d reminders after the cancellation, want still 4", got)
	}
}
