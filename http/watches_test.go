package http

import (
	"context"
	"strings"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// watchWorld: two nodes on one database and a shared Redis; node A runs
// the job workers (with a Mailpit), node B none. An instructor ("Sarah
// Chen", Piano, 09:00–12:00 on day D, three days ahead) is on node A;
// watchers sign in and listen on node B.
type watchWorld struct {
	t        *testing.T
	db       *store.DB
	mp       *storetest.Mailpit
	a, b     *rtNode
	d        time.Time // day D, a local date
	inst     string
	instTok  string
	offer    string
	stud     string // a student who books on node A
	studTok  string
	nyc      *time.Location
	today    time.Time
	weekdayD string
}

func newWatchWorld(t *testing.T) *watchWorld {
	t.Helper()
	w := &watchWorld{t: t, db: storetest.NewDB(t), mp: storetest.StartMailpit(t)}
	url, prefix := storetest.SharedRedis(t)
	w.a = startNode(t, w.db, url, prefix, "node-a", withNotify(w.mp.SMTPURL(), 4))
	w.b = startNode(t, w.db, url, prefix, "node-b")
	w.nyc, _ = time.LoadLocation("America/New_York")
	y, m, d := time.Now().In(w.nyc).Date()
	w.today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	w.d = w.today.AddDate(0, 0, 3)
	w.weekdayD = strings.ToLower(w.d.Weekday().String())
	w.instTok, w.inst, w.offer = w.a.bookableInstructor(w.db, w.date(0))
	if _, err := storetest.Pool(w.db).Exec(context.Background(), `UPDATE users SET full_name = 'Sarah Chen' WHERE id = $1`, w.inst); err != nil {
		t.Fatal(err)
	}
	w.studTok, w.stud = w.a.register(market.RoleStudent)
	return w
}

// date is D plus days, as YYYY-MM-DD.
func (w *watchWorld) date(days int) string { return w.d.AddDate(0, 0, days).Format(time.DateOnly) }

// watcher signs a new student in on node B with a socket open there, and
// creates their watch (the body's instructor_id is filled in).
func (w *watchWorld) watcher(body map[string]any) (tok, id, email string, ws *rtClient) {
	w.t.Helper()
	tok, id, email = w.b.registerEmail(market.RoleStudent)
	ws = dialWS(w.t, w.b.ws, bearer(tok))
	ws.expect("welcome")
	body["instructor_id"] = w.inst
	var out market.Watch
	if st := w.b.call("POST", "/api/v1/watches", tok, body, &out); st != 201 || out.ID == "" {
		w.t.Fatalf("create watch %v: %d %+v", body, st, out)
	}
	return tok, id, email, ws
}

// book books the world's student on D at start for an hour, on node A.
func (w *watchWorld) book(start string) string {
	w.t.Helper()
	var b market.Booking
	if st := w.a.call("POST", "/api/v1/bookings", w.studTok, map[string]any{"instructor_id": w.inst,
		"instructor_service_id": w.offer, "date": w.date(0), "start_time": start, "duration_minutes": 60}, &b); st != 201 {
		w.t.Fatalf("book %s: %d", start, st)
	}
	return b.ID
}

// count runs a count(*) query.
func (w *watchWorld) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := storetest.Pool(w.db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// settled waits until every slot.opened and email job has run.
func (w *watchWorld) settled() {
	w.t.Helper()
	eventually.True(w.t, 15*time.Second, "slot_opened and email jobs to finish", func() bool {
		return w.count(`SELECT count(*) FROM river_job WHERE kind IN ('slot_opened', 'email') AND state <> 'completed'`) == 0
	})
}

// slotOpened waits for the next slot.opened notification pushed to c.
func slotOpened(t *testing.T, c *rtClient) market.Notification {
	t.Helper()
	n := nextNotification(t, c)
	if n.Kind != market.NotifySlotOpened {
		t.Fatalf("pushed %+v, want a slot.opened", n)
	}
	return n
}

func TestWatchersHearOfOpenedTimeAcrossNodesOnceAnHour(t *testing.T) {
	t.Parallel()
	w := newWatchWorld(t)
	first, second := w.book("10:00"), w.book("11:00")
	_, watcher, email, ws := w.watcher(map[string]any{"days": []string{w.weekdayD}, "time_of_day": "morning",
		"from": w.today.Format(time.DateOnly), "to": w.date(10)})

	// Two openings in quick succession (two cancellations on node A): the
	// watcher on node B hears once, by push and by one email.
	for _, id := range []string{first, second} {
		if st := w.a.call("POST", "/api/v1/bookings/"+id+"/cancel", w.studTok, map[string]any{}, nil); st != 200 {
			t.Fatalf("cancel: %d", st)
		}
	}
	n := slotOpened(t, ws)
	weekday := w.d.Weekday().String()
	if n.Title != weekday+" 10:00 just opened" && n.Title != weekday+" 11:00 just opened" {
		t.Fatalf("title %q", n.Title)
	}
	if !strings.HasPrefix(n.Body, "Sarah Chen has open time on "+w.d.Format("Mon Jan 2")+", ") {
		t.Fatalf("body %q", n.Body)
	}
	msgs := w.mp.WaitFor(1, 10*time.Second, storetest.To(email))
	if m := w.mp.Message(msgs[0].ID); msgs[0].Subject != n.Title || !strings.Contains(m.Text, n.Body) ||
		!strings.Contains(m.Text, testPublicURL+"/#/instructors/"+w.inst+"?date="+w.date(0)) {
		t.Fatalf("email %q:\n%s", msgs[0].Subject, m.Text)
	}
	w.settled()
	if got := w.count(`SELECT count(*) FROM river_job WHERE kind = 'slot_opened'`); got != 2 {
		t.Fatalf("%d slot_opened jobs, want one per cancellation", got)
	}
	if got := w.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, watcher); got != 1 {
		t.Fatalf("watcher has %d notifications, want 1 (once an hour)", got)
	}
	if got := len(w.mp.WaitFor(1, time.Second, storetest.To(email))); got != 1 {
		t.Fatalf("%d emails to the watcher, want 1", got)
	}
	noNotification(t, ws, 200*time.Millisecond)
}

func TestANewMatchingWindowFiresAndNonMatchingWatchesStayQuiet(t *testing.T) {
	t.Parallel()
	w := newWatchWorld(t)
	d2 := w.d.AddDate(0, 0, 1)
	day2 := strings.ToLower(d2.Weekday().String())
	from, to := w.today.Format(time.DateOnly), w.date(20)
	_, _, _, match := w.watcher(map[string]any{"days": []string{day2}, "time_of_day": "evening", "from": from, "to": to})
	quiet := map[string]map[string]any{
		"other day":         {"days": []string{w.weekdayD}, "from": from, "to": to},
		"other part":        {"days": []string{day2}, "time_of_day": "morning", "from": from, "to": to},
		"outside the range": {"days": []string{}, "from": w.date(2), "to": w.date(12)},
	}
	quietWS := map[string]*rtClient{}
	quietIDs := []string{}
	for name, body := range quiet {
		_, id, _, ws := w.watcher(body)
		quietWS[name], quietIDs = ws, append(quietIDs, id)
	}

	if st := w.a.call("POST", "/api/v1/instructors/me/availability", w.instTok,
		map[string]string{"date": w.date(1), "start": "18:00", "end": "20:00"}, nil); st != 201 {
		t.Fatalf("add window: %d", st)
	}
	n := slotOpened(t, match)
	if want := d2.Weekday().String() + " 18:00 just opened"; n.Title != want {
		t.Fatalf("title %q, want %q", n.Title, want)
	}
	w.settled()
	for name, ws := range quietWS {
		t.Run(name, func(t *testing.T) { noNotification(t, ws, 100*time.Millisecond) })
	}
	if got := w.count(`SELECT count(*) FROM notifications WHERE user_id = ANY($1::uuid[])`, quietIDs); got != 0 {
		t.Fatalf("%d notifications to watchers whose watch does not match", got)
	}
	// A booking (less open time) tells nobody and queues no job.
	jobs := w.count(`SELECT count(*) FROM river_job WHERE kind = 'slot_opened'`)
	w.book("09:00")
	w.settled()
	if got := w.count(`SELECT count(*) FROM river_job WHERE kind = 'slot_opened'`); got != jobs {
		t.Fatalf("a booking queued %d slot_opened jobs", got-jobs)
	}
}

func TestWatchesAreValidatedCappedListedDeletedAndExported(t *testing.T) {
	t.Parallel()
	w := newWatchWorld(t)
	tok, _ := w.b.register(market.RoleStudent)
	other, _ := w.b.register(market.RoleStudent)
	from := w.today.Format(time.DateOnly)
	valid := func() map[string]any {
		return map[string]any{"instructor_id": w.inst, "days": []string{}, "time_of_day": nil, "from": from, "to": w.date(5)}
	}
	for name, tc := range map[string]struct {
		edit  func(map[string]any)
		field string
	}{
		"61 days":          {func(b map[string]any) { b["to"] = w.today.AddDate(0, 0, 60).Format(time.DateOnly) }, "to"},
		"from in the past": {func(b map[string]any) { b["from"] = w.today.AddDate(0, 0, -1).Format(time.DateOnly) }, "from"},
		"to before from":   {func(b map[string]any) { b["from"], b["to"] = w.date(2), w.date(1) }, "to"},
		"unknown day":      {func(b map[string]any) { b["days"] = []string{"caturday"} }, "days"},
		"unknown part":     {func(b map[string]any) { b["time_of_day"] = "noon" }, "time_of_day"},
		"no instructor":    {func(b map[string]any) { b["instructor_id"] = "6f1c1c8e-8f7e-4c1e-9a43-3d4f0c8b1a11" }, "instructor_id"},
		"a student":        {func(b map[string]any) { b["instructor_id"] = w.stud }, "instructor_id"},
	} {
		t.Run(name, func(t *testing.T) {
			body := valid()
			tc.edit(body)
			var e apiError
			if st := w.b.call("POST", "/api/v1/watches", tok, body, &e); st != 422 || e.Error.Details[tc.field] == nil {
				t.Fatalf("%d %+v, want 422 on %s", st, e, tc.field)
			}
		})
	}
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/watches"}, {"POST", "/api/v1/watches"}, {"DELETE", "/api/v1/watches/x"}} {
		if st := w.b.call(r.method, r.path, "", nil, nil); st != 401 {
			t.Fatalf("%s %s without a token: %d, want 401", r.method, r.path, st)
		}
	}
	var created market.Watch
	for i := range market.MaxActiveWatches {
		if st := w.b.call("POST", "/api/v1/watches", tok, valid(), &created); st != 201 {
			t.Fatalf("watch %d: %d", i, st)
		}
	}
	if st := w.b.call("POST", "/api/v1/watches", tok, valid(), nil); st != 409 {
		t.Fatalf("watch past the cap: %d, want 409", st)
	}
	var list watchListView
	if st := w.b.call("GET", "/api/v1/watches", tok, nil, &list); st != 200 || len(list.Items) != market.MaxActiveWatches ||
		list.Items[0].Instructor.FullName != "Sarah Chen" || list.Items[0].To != w.date(5) || list.Items[0].TimeOfDay != nil {
		t.Fatalf("list: %d %+v", st, list.Items[:1])
	}
	if st := w.b.call("DELETE", "/api/v1/watches/"+created.ID, other, nil, nil); st != 404 {
		t.Fatalf("another user's delete: %d, want 404", st)
	}
	if st := w.b.call("DELETE", "/api/v1/watches/"+created.ID, tok, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := w.b.call("DELETE", "/api/v1/watches/"+created.ID, tok, nil, nil); st != 404 {
		t.Fatalf("second delete: %d, want 404", st)
	}
	var export struct {
		Watches []struct {
			ID           string `json:"id"`
			InstructorID string `json:"instructor_id"`
		} `json:"watches"`
	}
	if st := w.b.call("GET", "/api/v1/me/export", tok, nil, &export); st != 200 || len(export.Watches) != market.MaxActiveWatches-1 ||
		export.Watches[0].InstructorID != w.inst {
		t.Fatalf("export %d: %d watches %+v", st, len(export.Watches), export.Watches)
	}
	if st := w.b.call("DELETE", "/api/v1/me", tok, map[string]string{"password": "TestPassword123!"}, nil); st != 204 {
		t.Fatalf("delete account: %d", st)
	}
	if got := w.count(`SELECT count(*) FROM watches w JOIN users u ON u.id = w.user_id WHERE u.deleted_at IS NOT NULL`); got != 0 {
		t.Fatalf("%d watches of a deleted account remain", got)
	}
}
