package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"instainstru/hub"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// exportDoc is the part of GET /me/export these tests read.
type exportDoc struct {
	Format  string `json:"format"`
	Account struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"account"`
	Bookings []struct {
		ID   string `json:"id"`
		Note string `json:"note"`
	} `json:"bookings"`
	Sessions []struct {
		UserAgent string `json:"user_agent"`
	} `json:"sessions"`
	SecurityLog []struct {
		Action string `json:"action"`
	} `json:"security_log"`
}

// export calls GET /me/export on n and checks it is a JSON attachment.
func (n *rtNode) export(token string) exportDoc {
	n.t.Helper()
	req, _ := nethttp.NewRequest("GET", n.base+"/api/v1/me/export", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		n.t.Fatalf("export: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	var doc exportDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		n.t.Fatalf("export is not JSON: %v\n%s", err, body)
	}
	return doc
}

func TestDeletedAccountIsGoneOnEveryNodeAndItsLessonsAreReleased(t *testing.T) {
	db := storetest.NewDB(t)
	url, prefix := storetest.SharedRedis(t)
	a := startNode(t, db, url, prefix, "node-a")
	b := startNode(t, db, url, prefix, "node-b")
	ny := mustLoc(t, market.DefaultTimezone)
	date := time.Now().In(ny).AddDate(0, 0, 3).Format(time.DateOnly)
	instToken, instID, offer := a.bookableInstructor(db, date)
	_, studID, email := a.registerEmail(market.RoleStudent)
	var login tokenResponse
	if st := a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "TestPassword123!"}, &login); st != 200 {
		t.Fatalf("login: %d", st)
	}
	studToken, studRefresh := login.AccessToken, login.RefreshToken

	// A lesson from last week (written directly: the API refuses the past)
	// and one ahead, booked through the API.
	past := time.Now().In(ny).AddDate(0, 0, -7).Format(time.DateOnly)
	var pastID string
	if err := storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO bookings (student_id, instructor_id, instructor_service_id,
		date, start_time, end_time, duration_minutes, price_cents, note, during)
		VALUES ($1, $2, $3, $4::date, '09:00', '10:00', 60, 8000, 'please call 555-0100',
		tstzrange(($4::date + time '09:00') AT TIME ZONE 'America/New_York', ($4::date + time '10:00') AT TIME ZONE 'America/New_York', '[)'))
		RETURNING id`, studID, instID, offer, past).Scan(&pastID); err != nil {
		t.Fatal(err)
	}
	var future market.Booking
	if st := a.call("POST", "/api/v1/bookings", studToken, map[string]any{"instructor_id": instID,
		"instructor_service_id": offer, "date": date, "start_time": "10:00", "duration_minutes": 60, "note": "gate 4"}, &future); st != 201 {
		t.Fatalf("book: %d", st)
	}

	// The export taken before deletion holds the personal rows.
	doc := b.export(studToken)
	if doc.Format != store.ExportFormat || doc.Account.ID != studID || doc.Account.Email != email ||
		len(doc.Bookings) != 2 || len(doc.Sessions) != 2 {
		t.Fatalf("export before deletion: %+v", doc)
	}
	notes := map[string]string{}
	for _, bk := range doc.Bookings {
		notes[bk.ID] = bk.Note
	}
	if notes[pastID] != "please call 555-0100" || notes[future.ID] != "gate 4" {
		t.Fatalf("export notes %v", notes)
	}

	var avail market.Availability
	if st := b.call("GET", "/api/v1/instructors/"+instID+"/availability?from="+date+"&to="+date, "", nil, &avail); st != 200 {
		t.Fatalf("availability: %d", st)
	}
	studentOnB := dialWS(t, b.ws, bearer(studToken))
	instructorOnA := dialWS(t, a.ws, bearer(instToken))
	watcherOnB := dialWS(t, b.ws, nil)
	for _, c := range []*rtClient{studentOnB, instructorOnA, watcherOnB} {
		c.expect("welcome")
	}
	watcherOnB.subscribe(market.AvailabilityTopic(instID), avail.Seq)

	if st := a.call("DELETE", "/api/v1/me", studToken, map[string]string{"password": "wrong password"}, nil); st != 422 {
		t.Fatalf("delete with a wrong password: %d, want 422", st)
	}
	start := time.Now()
	if st := a.call("DELETE", "/api/v1/me", studToken, map[string]string{"password": "TestPassword123!"}, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}

	// The socket on the other node closes with 4001 within a second.
	if code := studentOnB.closeStatus(time.Second); code != hub.StatusTokenExpired {
		t.Fatalf("student's socket on node B closed with %d, want %d", code, hub.StatusTokenExpired)
	}
	t.Logf("socket on the other node closed %v after the DELETE was sent", time.Since(start))

	// The instructor is told, and watchers see the time open again.
	ev := instructorOnA.events(market.UserTopic(instID), 1, 5*time.Second)[0]
	if ev.Event != market.EventBookingCancelled || !strings.Contains(string(ev.Data), future.ID) {
		t.Fatalf("instructor got %s %s", ev.Event, ev.Data)
	}
	av := watcherOnB.events(market.AvailabilityTopic(instID), 1, 5*time.Second)[0]
	var changed market.AvailabilityChanged
	if err := json.Unmarshal(av.Data, &changed); err != nil {
		t.Fatal(err)
	}
	if len(changed.Days) != 1 || fmt.Sprint(changed.Days[0].Open) != fmt.Sprint([]market.Interval{{Start: "09:00", End: "12:00"}}) {
		t.Fatalf("watcher saw %s, want the whole window open", av.Data)
	}

	// Login, both tokens and a new socket fail, on both nodes.
	for _, n := range []*rtNode{a, b} {
		if st := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "TestPassword123!"}, nil); st != 401 {
			t.Errorf("%s login: %d", n.base, st)
		}
		if st := n.call("GET", "/api/v1/auth/me", studToken, nil, nil); st != 401 {
			t.Errorf("%s access token: %d", n.base, st)
		}
		if st := n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": studRefresh}, nil); st != 401 {
			t.Errorf("%s refresh token: %d", n.base, st)
		}
		if _, err := dialWSErr(n.ws, bearer(studToken)); err == nil {
			t.Errorf("%s accepted a socket with the deleted user's token", n.base)
		}
	}

	// The instructor keeps both lessons, with the student as "Deleted user".
	var page struct {
		Items []market.Booking `json:"items"`
	}
	if st := b.call("GET", "/api/v1/bookings?scope=past", instToken, nil, &page); st != 200 {
		t.Fatalf("past lessons: %d", st)
	}
	seen := map[string]market.Booking{}
	for _, bk := range page.Items {
		seen[bk.ID] = bk
	}
	for _, id := range []string{pastID, future.ID} {
		bk, ok := seen[id]
		if !ok || bk.Student.FullName != market.DeletedUserName || bk.Note != "" {
			t.Fatalf("instructor's lesson %s after deletion: %+v (student %+v)", id, bk, bk.Student)
		}
	}
	if seen[future.ID].Status != market.BookingCancelled || seen[pastID].Status != market.BookingConfirmed {
		t.Fatalf("statuses: past %s, future %s", seen[pastID].Status, seen[future.ID].Status)
	}

	// The email registers again.
	body, _ := json.Marshal(map[string]string{"email": email, "password": "AnotherPass123!", "full_name": "New Me", "role": "student"})
	resp, err := nethttp.Post(b.base+"/api/v1/auth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("re-register %s: %d", email, resp.StatusCode)
	}
}

func TestAdminReadsTheAuditTrailWithoutSecrets(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	adminTok, admin := ts.signUp(market.RoleAdmin)
	_, student := ts.signUp(market.RoleStudent)
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": student.Email, "password": "not-it-at-all"}, 401, nil)
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "secret-guess"}, 401, nil)
	ts.doJSON("PATCH", "/api/v1/admin/users/"+student.ID, adminTok, map[string]any{"roles": []string{"student", "instructor"}}, 200, nil)
	ts.doJSON("DELETE", "/api/v1/admin/users/"+student.ID, adminTok, nil, 204, nil)

	var page auditResponse
	ts.doJSON("GET", "/api/v1/admin/audit?user_id="+student.ID, adminTok, nil, 200, &page)
	var actions []string
	for _, it := range page.Items {
		actions = append(actions, it.Action)
	}
	// The student registered (no login); the admin's own login is not about them.
	want := []string{market.AuditAccountDeleted, market.AuditRolesChanged, market.AuditLoginFailed}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Fatalf("actions newest first %v, want %v", actions, want)
	}
	del := page.Items[0]
	if del.ActorID == nil || *del.ActorID != admin.ID || del.Details["by"] != "admin" || del.RequestID == nil || del.IP == nil {
		t.Fatalf("deletion entry %+v", del)
	}
	// Names, not only ids: the admin by name, the deleted student as "Deleted user".
	if del.ActorName == nil || *del.ActorName != admin.FullName || del.TargetName == nil || *del.TargetName != market.DeletedUserName {
		t.Fatalf("deletion entry names: actor %v target %v", del.ActorName, del.TargetName)
	}

	ts.doJSON("GET", "/api/v1/admin/audit?action=auth.login_failed&limit=1", adminTok, nil, 200, &page)
	if len(page.Items) != 1 || page.NextCursor == nil {
		t.Fatalf("first page %+v", page)
	}
	first := page.Items[0]
	ts.doJSON("GET", "/api/v1/admin/audit?action=auth.login_failed&limit=1&cursor="+*page.NextCursor, adminTok, nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID == first.ID || page.NextCursor != nil {
		t.Fatalf("second page %+v", page)
	}
	raw := ts.doJSON("GET", "/api/v1/admin/audit?limit=100", adminTok, nil, 200, nil)
	for _, secret := range []string{"not-it-at-all", "secret-guess", "nobody@example.com", student.Email, testPassword} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("audit trail contains %q: %s", secret, raw)
		}
	}

	for _, q := range []string{"user_id=nope", "from=yesterday", "cursor=-1", "to=2026-13-01T00:00:00Z"} {
		_, body := ts.do("GET", "/api/v1/admin/audit?"+q, adminTok, nil)
		if e := decodeAPIError(t, body); e.Error.Code != market.EVALIDATION {
			t.Errorf("%s: %s", q, body)
		}
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ts.doJSON("GET", "/api/v1/admin/audit?from="+future, adminTok, nil, 200, &page)
	if len(page.Items) != 0 {
		t.Fatalf("entries from the future: %+v", page.Items)
	}
}

func TestExportIsRateLimitedPerUserAndAudited(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, u := ts.signUp(market.RoleStudent)
	for i := 0; i < 3; i++ {
		resp, body := ts.do("GET", "/api/v1/me/export", tok, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export %d: %d %s", i, resp.StatusCode, body)
		}
		var doc exportDoc
		mustJSON(t, body, &doc)
		if doc.Account.ID != u.ID || len(doc.SecurityLog) < i+1 {
			t.Fatalf("export %d: %+v", i, doc)
		}
	}
	resp, body := ts.do("GET", "/api/v1/me/export", tok, nil)
	if resp.StatusCode != 429 {
		t.Fatalf("4th export in a minute: %d %s", resp.StatusCode, body)
	}
	// Another user has their own allowance.
	other, _ := ts.signUp(market.RoleStudent)
	ts.doJSON("GET", "/api/v1/me/export", other, nil, 200, nil)
	entries, _, err := ts.db.AuditEntries(context.Background(), market.AuditQuery{UserID: u.ID, Action: market.AuditDataExported})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d export entries, want 3", len(entries))
	}
}

func TestDeleteMeRefusesBadRequests(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleStudent)
	for _, c := range []struct {
		body   any
		status int
		code   string
	}{
		{nil, 415, codeUnsupportedMedia},
		{`{"password":`, 400, market.EMALFORMED},
		{map[string]any{}, 422, market.EVALIDATION},
		{map[string]any{"password": 5}, 400, market.EMALFORMED},
		{map[string]any{"password": "wrong"}, 422, market.EVALIDATION},
	} {
		resp, body := ts.do("DELETE", "/api/v1/me", tok, c.body)
		if resp.StatusCode != c.status || decodeAPIError(t, body).Error.Code != c.code {
			t.Errorf("body %v: %d %s, want %d %s", c.body, resp.StatusCode, body, c.status, c.code)
		}
	}
	ts.doJSON("GET", "/api/v1/auth/me", tok, nil, 200, nil)
}
