package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// notPersonal lists tables that reference users but are deliberately not
// in the data export, each with the reason. Empty today: every such table
// is exported. A new table must land either in store.exportSections or here.
var notPersonal = map[string]string{
	"instructor_page_views": "counts views of an instructor's public page; nothing about the viewer is stored",
	"watch_days":            "a copy of an instructor's public open time (exported as availability), kept while someone watches it",
}

func TestExportCoversEveryTableThatReferencesUsers(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	rows, err := storetest.Pool(w.db).Query(context.Background(), `
		SELECT DISTINCT c.table_name::text FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
		  AND (c.column_name IN ('user_id', 'student_id', 'instructor_id') OR c.column_name LIKE '%\_user\_id')
		UNION
		SELECT DISTINCT tc.table_name::text FROM information_schema.table_constraints tc
		JOIN information_schema.constraint_column_usage u
		  ON u.constraint_schema = tc.constraint_schema AND u.constraint_name = tc.constraint_name
		WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public' AND u.table_name = 'users'
		ORDER BY 1`)
	noErr(t, err)
	var referencing []string
	for rows.Next() {
		var name string
		noErr(t, rows.Scan(&name))
		referencing = append(referencing, name)
	}
	noErr(t, rows.Err())
	if len(referencing) < 5 {
		t.Fatalf("schema walk found only %v: the query is broken", referencing)
	}
	exported := store.ExportTables()
	for _, table := range referencing {
		if !slices.Contains(exported, table) && notPersonal[table] == "" {
			t.Errorf("table %s references users but is neither exported (store/export.go exportSections) "+
				"nor listed in notPersonal with a reason", table)
		}
	}
	for _, table := range append(exported, "users") {
		var exists bool
		noErr(t, storetest.Pool(w.db).QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists))
		if !exists {
			t.Errorf("export section names table %s, which does not exist", table)
		}
	}
}

// exportOf decodes a user's export.
func exportOf(t *testing.T, db *store.DB, userID string) (map[string]json.RawMessage, string) {
	t.Helper()
	var buf bytes.Buffer
	noErr(t, db.ExportUser(context.Background(), userID, fixedNow(), &buf))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not one JSON object: %v\n%s", err, buf.String())
	}
	return doc, buf.String()
}

func items(t *testing.T, doc map[string]json.RawMessage, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(doc[key], &out); err != nil {
		t.Fatalf("%s: %v (%s)", key, err, doc[key])
	}
	return out
}

func withUA(ua string) context.Context {
	return market.WithRequestMeta(context.Background(), market.RequestMeta{UserAgent: ua, IP: "203.0.113.7", RequestID: "req-1"})
}

func newHash(t *testing.T) []byte {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	noErr(t, err)
	return b
}

func TestExportHoldsEveryPersonalRowOfBothParties(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	nb := book(student, in, offer, monday, "09:00")
	nb.Note, nb.IdempotencyKey = "bring sheet music", "key-1"
	_, err := w.db.CreateBooking(ctx, nb)
	noErr(t, err)
	noErr(t, w.db.CreateRefreshToken(withUA("Firefox/140"), student, 0, newHash(t), time.Now().Add(time.Hour)))
	noErr(t, w.db.Audit(withUA("x"), market.AuditLoginSucceeded, student, nil))

	doc, raw := exportOf(t, w.db, student)
	var account map[string]any
	noErr(t, json.Unmarshal(doc["account"], &account))
	if account["id"] != student || !strings.HasPrefix(account["email"].(string), "student") {
		t.Fatalf("account %v", account)
	}
	if doc["profile"] == nil || string(doc["profile"]) != "null" {
		t.Fatalf("a student's profile is %s, want null", doc["profile"])
	}
	bks := items(t, doc, "bookings")
	if len(bks) != 1 || bks[0]["note"] != "bring sheet music" || bks[0]["your_role"] != "student" ||
		bks[0]["service_name"] != "Piano" || bks[0]["instructor"].(map[string]any)["id"] != in {
		t.Fatalf("bookings %v", bks)
	}
	if s := items(t, doc, "sessions"); len(s) != 1 || s[0]["user_agent"] != "Firefox/140" || s[0]["active"] != true {
		t.Fatalf("sessions %v", s)
	}
	if k := items(t, doc, "booking_requests"); len(k) != 1 || k[0]["idempotency_key"] != "key-1" {
		t.Fatalf("booking_requests %v", k)
	}
	if l := items(t, doc, "security_log"); len(l) != 1 || l[0]["action"] != market.AuditLoginSucceeded || l[0]["ip"] != "203.0.113.7" {
		t.Fatalf("security_log %v", l)
	}
	if strings.Contains(raw, "token_hash") || strings.Contains(raw, "password") {
		t.Fatalf("export leaks secrets: %s", raw)
	}

	doc, _ = exportOf(t, w.db, in)
	var profile map[string]any
	noErr(t, json.Unmarshal(doc["profile"], &profile))
	if profile["timezone"] != market.DefaultTimezone {
		t.Fatalf("profile %v", profile)
	}
	if o := items(t, doc, "offers"); len(o) != 1 || o[0]["id"] != offer || o[0]["service_name"] != "Piano" {
		t.Fatalf("offers %v", o)
	}
	if a := items(t, doc, "availability"); len(a) != 1 || a[0]["date"] != monday || a[0]["start"] != "09:00" || a[0]["end"] != "12:00" {
		t.Fatalf("availability %v", a)
	}
	bks = items(t, doc, "bookings")
	if len(bks) != 1 || bks[0]["your_role"] != "instructor" || bks[0]["student"].(map[string]any)["full_name"] == "" {
		t.Fatalf("instructor bookings %v", bks)
	}
	var roles []string
	noErr(t, json.Unmarshal(doc["roles"], &roles))
	if !slices.Equal(roles, []string{market.RoleInstructor}) {
		t.Fatalf("roles %v", roles)
	}
}

func TestDeleteAccountCancelsFutureLessonsScrubsAndFreesTheEmail(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	email := w.actor(student).Email
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, tuesday, "09:00", "12:00", fixedNow)
	past := book(student, in, offer, monday, "09:00")
	past.Note = "my phone is 555-0100"
	pb, err := w.db.CreateBooking(ctx, past)
	noErr(t, err)
	future := book(student, in, offer, tuesday, "10:00")
	future.Note = "gate code 1234"
	fb, err := w.db.CreateBooking(ctx, future)
	noErr(t, err)
	noErr(t, w.db.CreateRefreshToken(ctx, student, 0, newHash(t), time.Now().Add(time.Hour)))

	// Tuesday 00:00 in New York: Monday's lesson is past, Tuesday's ahead.
	now := func() time.Time { return time.Date(2027, 1, 12, 5, 0, 0, 0, time.UTC) }
	w.rec.take() // only the next write's events count
	res, err := w.db.DeleteAccount(ctx, market.AccountDeletion{UserID: student, Actor: w.actor(student), Now: now})
	published := w.rec.take()
	noErr(t, err)
	if !slices.Equal(res.CancelledBookings, []string{fb.Booking.ID}) {
		t.Fatalf("cancelled %v, want only the future lesson %s", res.CancelledBookings, fb.Booking.ID)
	}
	var got []string
	for _, e := range published {
		got = append(got, e.Topic+" "+e.Type)
	}
	for _, want := range []string{
		market.UserTopic(in) + " " + market.EventBookingCancelled,
		market.AvailabilityTopic(in) + " " + market.EventAvailabilityChanged,
		market.UserTopic(student) + " " + market.EventAccountDeleted,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("events %v lack %q", got, want)
		}
	}
	if got[len(got)-1] != market.UserTopic(student)+" "+market.EventAccountDeleted {
		t.Errorf("account.deleted is not the last event: %v", got)
	}

	// The instructor keeps the past lesson, with the student as "Deleted user"
	// and without the student's note; the future one is cancelled.
	b, err := w.db.Booking(ctx, w.actor(in), pb.Booking.ID)
	noErr(t, err)
	if b.Status != market.BookingConfirmed || b.Student.FullName != market.DeletedUserName || b.Note != "" {
		t.Fatalf("past lesson after deletion: %+v student %+v", b, b.Student)
	}
	b, err = w.db.Booking(ctx, w.actor(in), fb.Booking.ID)
	noErr(t, err)
	if b.Status != market.BookingCancelled || b.Note != "" {
		t.Fatalf("future lesson after deletion: %+v", b)
	}
	if n := w.count(`SELECT count(*) FROM users WHERE id = $1 AND deleted_at IS NOT NULL
		AND email = id::text || '@deleted.invalid' AND password_hash = '' AND full_name = 'Deleted user'`, student); n != 1 {
		t.Fatal("user row not scrubbed and marked deleted")
	}
	if n := w.count(`SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, student); n != 0 {
		t.Fatalf("%d refresh tokens still live", n)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'user.deleted' AND target_user_id = $1`, student); n != 1 {
		t.Fatalf("%d audit entries for the deletion", n)
	}
	_, _, err = w.db.UserByEmail(ctx, email)
	wantCode(t, err, market.ENOTFOUND)
	_, err = w.db.DeleteAccount(ctx, market.AccountDeletion{UserID: student, Actor: w.actor(in), Now: now})
	wantCode(t, err, market.ENOTFOUND)

	// The email registers again, as a new account.
	again, err := w.db.CreateUser(ctx, market.NewUser{Email: email, PasswordHash: w.hash, FullName: "Back Again", Role: market.RoleStudent})
	noErr(t, err)
	if again.ID == student {
		t.Fatal("re-registration reused the deleted id")
	}
	// The database refuses a new lesson for the deleted account, whatever
	// the Go code above it checks.
	_, err = storetest.Pool(w.db).Exec(ctx, `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date,
		start_time, end_time, duration_minutes, price_cents, during)
		VALUES ($1, $2, $3, '2027-01-12', '10:00', '11:00', 60, 6000,
		tstzrange('2027-01-12 15:00+00', '2027-01-12 16:00+00', '[)'))`, student, in, offer)
	if err == nil || !strings.Contains(err.Error(), "student account is deleted") {
		t.Fatalf("booking for a deleted student: %v", err)
	}
}

func TestDeleteInstructorClosesTheirFutureTimeAndCancelsStudentsLessons(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, tuesday, "09:00", "12:00", fixedNow)
	fb, err := w.db.CreateBooking(ctx, book(student, in, offer, tuesday, "10:00"))
	noErr(t, err)
	w.rec.take() // only the next write's events count
	res, err := w.db.DeleteAccount(ctx, market.AccountDeletion{UserID: in, Actor: w.actor(in), Now: fixedNow})
	published := w.rec.take()
	noErr(t, err)
	if !slices.Equal(res.CancelledBookings, []string{fb.Booking.ID}) {
		t.Fatalf("cancelled %v", res.CancelledBookings)
	}
	var studentPush, closed bool
	for _, e := range published {
		if e.Topic == market.UserTopic(student) && e.Type == market.EventBookingCancelled {
			studentPush = true
		}
		if e.Topic == market.AvailabilityTopic(in) {
			var ch market.AvailabilityChanged
			noErr(t, json.Unmarshal(e.Data, &ch))
			for _, d := range ch.Days {
				if d.Date == monday && len(d.Open) == 0 {
					closed = true
				}
			}
		}
	}
	if !studentPush || !closed {
		t.Fatalf("student push %v, monday closed for watchers %v: %+v", studentPush, closed, published)
	}
	if n := w.count(`SELECT count(*) FROM availability_windows WHERE instructor_id = $1`, in); n != 0 {
		t.Fatalf("%d future windows left", n)
	}
	if n := w.count(`SELECT count(*) FROM instructor_services WHERE instructor_id = $1 AND is_active`, in); n != 0 {
		t.Fatalf("%d offers still active", n)
	}
	b, err := w.db.Booking(ctx, w.actor(student), fb.Booking.ID)
	noErr(t, err)
	if b.Status != market.BookingCancelled || b.Instructor.FullName != market.DeletedUserName {
		t.Fatalf("student's lesson %+v instructor %+v", b, b.Instructor)
	}
}

func TestAuditLogIsAppendOnlyExceptForRetention(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	u := w.user(market.RoleStudent)
	noErr(t, w.db.Audit(withUA("x"), market.AuditLoginFailed, u, map[string]any{"reason": "wrong_password"}))
	for _, sql := range []string{
		`UPDATE audit_log SET action = 'auth.login'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := storetest.Pool(w.db).Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}
	entries, _, err := w.db.AuditEntries(ctx, market.AuditQuery{UserID: u})
	noErr(t, err)
	if len(entries) != 1 || entries[0].IP != "203.0.113.7" || entries[0].RequestID != "req-1" || entries[0].Details["reason"] != "wrong_password" {
		t.Fatalf("entries %+v", entries)
	}
	n, err := w.db.Prune(ctx, store.RetentionAudit, time.Now().Add(time.Hour), 10)
	noErr(t, err)
	if n != 1 {
		t.Fatalf("retention removed %d audit rows, want 1", n)
	}
}

func TestRetentionRemovesExactlyWhatEachPeriodSays(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	u := w.user(market.RoleStudent)
	in, offer := w.instructor(market.DefaultTimezone)
	now := time.Date(2027, 9, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour

	// Refresh tokens, kept 7 days after expiry or revocation.
	tokens := []struct {
		expires, revoked time.Time
		used             bool
		gone             bool
	}{
		{expires: now.Add(-8 * day), gone: true},
		{expires: now.Add(-6 * day)},
		{expires: now.Add(day), revoked: now.Add(-8 * day), gone: true},
		{expires: now.Add(day), revoked: now.Add(-6 * day)},
		{expires: now.Add(day), used: true}, // spent but unexpired: kept for reuse detection
		{expires: now.Add(30 * day)},
	}
	wantTokens := 0
	for _, tk := range tokens {
		var revoked, used *time.Time
		if !tk.revoked.IsZero() {
			revoked = &tk.revoked
		}
		if tk.used {
			used = &now
		}
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at, used_at)
			VALUES ($1, gen_random_uuid(), $2, $3, $4, $5)`, u, newHash(t), tk.expires, revoked, used)
		noErr(t, err)
		if !tk.gone {
			wantTokens++
		}
	}
	// Audit entries, kept 365 days.
	for _, age := range []time.Duration{400 * day, 366 * day, 364 * day} {
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO audit_log (at, target_user_id, action) VALUES ($1, $2, 'auth.login')`, now.Add(-age), u)
		noErr(t, err)
	}
	// Lesson notes, kept 182 days after the lesson ended: Monday's lesson
	// (Jan 11) ended more than 182 days before Sept 1; a lesson on Mar 8
	// did not.
	w.addWindow(in, monday, "09:00", "12:00", fixedNow)
	w.addWindow(in, "2027-03-08", "09:00", "12:00", fixedNow)
	old := book(u, in, offer, monday, "09:00")
	old.Note = "old note"
	ob, err := w.db.CreateBooking(ctx, old)
	noErr(t, err)
	recent := book(u, in, offer, "2027-03-08", "09:00")
	recent.Note = "recent note"
	rb, err := w.db.CreateBooking(ctx, recent)
	noErr(t, err)

	// Read notifications, kept 90 days after being read; unread ones stay.
	for i, readAgo := range []time.Duration{91 * day, 89 * day, -1} {
		var readAt *time.Time
		if readAgo >= 0 {
			at := now.Add(-readAgo)
			readAt = &at
		}
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO notifications (user_id, kind, title, body, created_at, read_at)
			VALUES ($1, 'booking.created', $2, 'b', $3, $4)`, u, fmt.Sprint("n", i), now.Add(-200*day), readAt)
		noErr(t, err)
	}
	// Emails, kept 90 days after being sent or given up on; queued ones stay.
	for i, e := range []struct{ sentAgo, failedAgo time.Duration }{
		{sentAgo: 91 * day}, {failedAgo: 91 * day}, {sentAgo: 89 * day}, {},
	} {
		var sent, failed *time.Time
		var msgID *string
		if e.sentAgo > 0 {
			at, id := now.Add(-e.sentAgo), fmt.Sprint("m", i)
			sent, msgID = &at, &id
		}
		if e.failedAgo > 0 {
			at := now.Add(-e.failedAgo)
			failed = &at
		}
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO emails (user_id, template, dedupe_key, created_at, sent_at, message_id, failed_at)
			VALUES ($1, 'booking_confirmed', $2, $3, $4, $5, $6)`, u, fmt.Sprint("e", i), now.Add(-200*day), sent, msgID, failed)
		noErr(t, err)
	}
	// Search history, kept 180 days after the query was last searched.
	for i, ago := range []time.Duration{181 * day, 179 * day} {
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO search_history (user_id, query, normalized, searched_at, result_count)
			VALUES ($1, $2, $2, $3, 1)`, u, fmt.Sprint("q", i), now.Add(-ago))
		noErr(t, err)
	}

	reg := prometheus.NewRegistry()
	r := store.NewRetention(w.db, store.RetentionConfig{Batch: 1}, reg, nil) // batch 1: the loop must go round
	removed, err := r.RunOnce(ctx, now)
	noErr(t, err)
	want := map[string]int64{store.RetentionRefreshTokens: 2, store.RetentionAudit: 2, store.RetentionLessonNotes: 1,
		store.RetentionReadNotifications: 1, store.RetentionEmails: 2, store.RetentionSearchHistory: 1}
	for kind, n := range want {
		if removed[kind] != n {
			t.Errorf("%s: removed %d, want %d", kind, removed[kind], n)
		}
		if got := metricValue(t, reg, kind); got != float64(n) {
			t.Errorf("%s: metric %v, want %d", kind, got, n)
		}
	}
	if n := w.count(`SELECT count(*) FROM refresh_tokens`); n != wantTokens {
		t.Errorf("%d tokens left, want %d", n, wantTokens)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'auth.login'`); n != 1 {
		t.Errorf("%d audit rows left, want 1", n)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE id = $1 AND note = ''`, ob.Booking.ID); n != 1 {
		t.Error("old lesson's note kept")
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE id = $1 AND note = 'recent note'`, rb.Booking.ID); n != 1 {
		t.Error("recent lesson's note removed")
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE title = 'n0'`); n != 0 {
		t.Error("notification read 91 days ago kept")
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE title IN ('n1', 'n2')`); n != 2 {
		t.Errorf("%d of the recently read and the unread notification left, want 2", n)
	}
	if n := w.count(`SELECT count(*) FROM emails WHERE dedupe_key IN ('e0', 'e1', 'e2', 'e3')`); n != 2 ||
		w.count(`SELECT count(*) FROM emails WHERE dedupe_key IN ('e2', 'e3')`) != 2 {
		t.Error("emails left are not exactly the recent and the queued one")
	}
	if n := w.count(`SELECT count(*) FROM search_history WHERE query = 'q1'`); n != 1 || w.count(`SELECT count(*) FROM search_history`) != 1 {
		t.Error("search history left is not exactly the recent query")
	}
	// A second run at the same instant finds nothing more.
	removed, err = r.RunOnce(ctx, now)
	noErr(t, err)
	for kind, n := range removed {
		if n != 0 {
			t.Errorf("second run removed %d %s", n, kind)
		}
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	noErr(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "instainstru_retention_removed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no retention metric for %s", kind)
	return 0
}
