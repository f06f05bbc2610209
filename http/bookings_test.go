package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// burstClient is an HTTP client that may hold many connections at once.
func burstClient(t *testing.T) *nethttp.Client {
	tr := &nethttp.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 60 * time.Second}
}

type schedResult struct {
	status int
	body   []byte
	err    error
}

func postBooking(client *nethttp.Client, url, token, key string, body []byte) schedResult {
	req, err := nethttp.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return schedResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return schedResult{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return schedResult{status: resp.StatusCode, body: data, err: err}
}

// signUpMany creates n students concurrently and returns their tokens.
func signUpStudents(ts *testServer, n int) []string {
	ts.t.Helper()
	toks := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range toks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			toks[i], _ = ts.signUp(market.RoleStudent)
		}()
	}
	wg.Wait()
	return toks
}

func schedBookingBody(instructor, offer string, date time.Time, start string, minutes int) map[string]any {
	return map[string]any{"instructor_id": instructor, "instructor_service_id": offer,
		"date": schedDate(date), "start_time": start, "duration_minutes": minutes}
}

func countRows(ts *testServer, sql string, args ...any) int {
	ts.t.Helper()
	var n int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

func TestTwoHundredStudentsRaceForOneSlotExactlyOneWins(t *testing.T) {
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	const n = 200
	students := signUpStudents(ts, n)
	base, client := ts.listen(), burstClient(t)
	body, _ := json.Marshal(schedBookingBody(in.ID, offer, mon, "10:00", 60))
	published := len(pub.events())

	results := make([]schedResult, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = postBooking(client, base+"/api/v1/bookings", students[i], "", body)
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)

	created, conflicts := 0, 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		switch r.status {
		case 201:
			created++
		case 409:
			if e := decodeAPIError(t, r.body); e.Error.Code != market.ESLOTUNAVAIL {
				t.Fatalf("409 with code %q", e.Error.Code)
			}
			conflicts++
		default:
			t.Fatalf("request %d: status %d: %s", i, r.status, r.body)
		}
	}
	t.Logf("%d concurrent POST /bookings for one slot took %s (%d created, %d × 409)", n, elapsed, created, conflicts)
	if created != 1 || conflicts != n-1 {
		t.Fatalf("%d created, %d conflicts; want 1 and %d", created, conflicts, n-1)
	}
	if got := countRows(ts, `SELECT count(*) FROM bookings`); got != 1 {
		t.Fatalf("%d booking rows, want 1", got)
	}
	if got := countRows(ts, `SELECT count(*) FROM events WHERE type = 'booking.created'`); got != 1 {
		t.Fatalf("%d booking.created events, want 1", got)
	}
	if got := len(pub.events()) - published; got != 5 {
		t.Fatalf("%d events published, want 5 (created, confirmed, availability.changed, 2 × notification.created)", got)
	}
	if c, x := schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("created")), schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("conflict")); c != 1 || x != n-1 {
		t.Fatalf("metrics created=%v conflict=%v", c, x)
	}
}

func TestIdempotencyKeyMakesConcurrentRetriesOneBooking(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	student, _ := ts.signUp(market.RoleStudent)
	base, client := ts.listen(), burstClient(t)
	body, _ := json.Marshal(schedBookingBody(in.ID, offer, mon, "10:00", 60))
	published := len(pub.events())

	const n = 100
	results := make([]schedResult, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = postBooking(client, base+"/api/v1/bookings", student, "retry-7f3a", body)
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != 201 {
			t.Fatalf("request %d: %d %v %s", i, r.status, r.err, r.body)
		}
		if !bytes.Equal(r.body, results[0].body) {
			t.Fatalf("bodies differ:\n%s\n%s", results[0].body, r.body)
		}
	}
	if got := countRows(ts, `SELECT count(*) FROM bookings`); got != 1 {
		t.Fatalf("%d bookings, want 1", got)
	}
	if got := len(pub.events()) - published; got != 5 {
		t.Fatalf("%d events published, want 5 (one booking's; replays publish nothing)", got)
	}
	if c, r := schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("created")), schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("idempotent_replay")); c != 1 || r != n-1 {
		t.Fatalf("metrics created=%v replay=%v", c, r)
	}

	other, _ := json.Marshal(schedBookingBody(in.ID, offer, mon, "11:00", 60))
	r := postBooking(client, base+"/api/v1/bookings", student, "retry-7f3a", other)
	if r.status != 422 || decodeAPIError(t, r.body).Error.Code != market.EIDEMPOTENCY {
		t.Fatalf("same key, different body: %d %s", r.status, r.body)
	}
	if got := countRows(ts, `SELECT count(*) FROM bookings`); got != 1 {
		t.Fatalf("%d bookings, want 1", got)
	}
	r = postBooking(client, base+"/api/v1/bookings", student, strings.Repeat("k", 129), other)
	if r.status != 422 || decodeAPIError(t, r.body).Error.Details["Idempotency-Key"] == nil {
		t.Fatalf("129-character key: %d %s", r.status, r.body)
	}
}

func TestBookingOverHTTPHasTheSpecShape(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	student, su := ts.signUp(market.RoleStudent)
	body := schedBookingBody(in.ID, offer, mon, "09:30", 30)
	body["note"] = "first lesson"
	resp, data := ts.do("POST", "/api/v1/bookings", student, body)
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	var got map[string]any
	mustJSON(t, data, &got)
	for _, k := range []string{"id", "status", "student_id", "instructor_id", "instructor_service_id", "date", "start_time", "end_time", "price_cents", "created_at"} {
		if _, ok := got[k]; !ok {
			t.Errorf("booking lacks %q: %s", k, data)
		}
	}
	want := map[string]any{"status": "confirmed", "student_id": su.ID, "instructor_id": in.ID, "instructor_service_id": offer,
		"date": schedDate(mon), "start_time": "09:30", "end_time": "10:00", "price_cents": float64(3000)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, got["created_at"].(string)); err != nil {
		t.Errorf("created_at %v is not RFC 3339", got["created_at"])
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/bookings/"+got["id"].(string) {
		t.Errorf("Location %q", loc)
	}
	// The events handed to the broker carry the same booking object.
	var types []string
	for _, e := range pub.events() {
		types = append(types, e.Type)
		if e.Type == market.EventBookingCreated {
			var b map[string]any
			mustJSON(t, e.Data, &b)
			if b["id"] != got["id"] || e.Topic != market.UserTopic(in.ID) {
				t.Errorf("booking.created %s on %s", e.Data, e.Topic)
			}
		}
	}
	slices.Sort(types)
	if !reflect.DeepEqual(types, []string{"availability.changed", "availability.changed", "booking.confirmed", "booking.created",
		"notification.created", "notification.created"}) {
		t.Fatalf("published %v", types)
	}
	// The public availability no longer shows the booked half hour.
	a := fetchAvailability(ts, in.ID, mon, mon)
	if !reflect.DeepEqual(a.Days[0].Open, schedSpans("09:00", "09:30", "10:00", "12:00")) || a.Seq != 2 {
		t.Fatalf("availability after booking %+v", a)
	}
}

func TestBookingRejectionsOverHTTPWriteNothing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	var retired string
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations, is_active)
		SELECT instructor_id, service_id, 5000, '{60}', false FROM instructor_services WHERE id=$1 RETURNING id`, offer).Scan(&retired); err != nil {
		t.Fatal(err)
	}
	student, _ := ts.signUp(market.RoleStudent)
	ny, _ := time.LoadLocation(market.DefaultTimezone)
	soon := time.Now().In(ny).Add(30 * time.Minute).Truncate(15 * time.Minute)
	soonDate := time.Date(soon.Year(), soon.Month(), soon.Day(), 0, 0, 0, 0, time.UTC)
	with := func(edit func(map[string]any)) map[string]any {
		b := schedBookingBody(in.ID, offer, mon, "10:00", 60)
		edit(b)
		return b
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"outside every window", with(func(b map[string]any) { b["start_time"] = "13:00" }), 409, market.ESLOTUNAVAIL, ""},
		{"running past the window", with(func(b map[string]any) { b["start_time"] = "11:30" }), 409, market.ESLOTUNAVAIL, ""},
		{"misaligned time", with(func(b map[string]any) { b["start_time"] = "10:20" }), 422, market.EVALIDATION, "start_time"},
		{"duration not offered", with(func(b map[string]any) { b["duration_minutes"] = 45 }), 422, market.EVALIDATION, "duration_minutes"},
		{"soft-deleted service", with(func(b map[string]any) { b["instructor_service_id"] = retired }), 422, market.EVALIDATION, "instructor_service_id"},
		{"in the past", with(func(b map[string]any) { b["date"] = schedDate(mon.AddDate(0, 0, -30)) }), 422, market.EVALIDATION, "start_time"},
		{"less than an hour ahead", with(func(b map[string]any) {
			b["date"], b["start_time"] = schedDate(soonDate), fmt.Sprintf("%02d:%02d", soon.Hour(), soon.Minute())
		}), 422, market.EVALIDATION, "start_time"},
		{"instructor id not a UUID", with(func(b map[string]any) { b["instructor_id"] = "sarah" }), 422, market.EVALIDATION, "instructor_id"},
		{"missing duration", with(func(b map[string]any) { delete(b, "duration_minutes") }), 422, market.EVALIDATION, "duration_minutes"},
		{"duration as text", with(func(b map[string]any) { b["duration_minutes"] = "60" }), 400, market.EMALFORMED, "duration_minutes"},
		{"unknown field", with(func(b map[string]any) { b["price_cents"] = 1 }), 400, market.EMALFORMED, "price_cents"},
		{"not JSON", "{", 400, market.EMALFORMED, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := expectAPIError(ts, "POST", "/api/v1/bookings", student, tc.body, tc.status, tc.code)
			if tc.field != "" && e.Error.Details[tc.field] == nil {
				t.Fatalf("details %v do not name %q", e.Error.Details, tc.field)
			}
			if n := countRows(ts, `SELECT count(*) FROM bookings`); n != 0 {
				t.Fatalf("%d bookings written", n)
			}
			if n := countRows(ts, `SELECT count(*) FROM events WHERE type <> 'availability.changed'`); n != 0 {
				t.Fatalf("%d booking events written", n)
			}
		})
	}
}

func TestStudentCannotDoubleBookTwoInstructorsOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tokA, a, offerA := newSchedInstructor(ts)
	tokB, b, offerB := newSchedInstructor(ts)
	mon := schedWeek()
	for _, tok := range []string{tokA, tokB} {
		ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
			map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	}
	student, _ := ts.signUp(market.RoleStudent)
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(a.ID, offerA, mon, "10:00", 60), 201, nil)
	e := expectAPIError(ts, "POST", "/api/v1/bookings", student, schedBookingBody(b.ID, offerB, mon, "10:30", 60), 409, market.ESLOTUNAVAIL)
	if !strings.Contains(e.Error.Message, "you already have a lesson") {
		t.Fatalf("message %q", e.Error.Message)
	}
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(b.ID, offerB, mon, "11:00", 60), 201, nil)
	if n := countRows(ts, `SELECT count(*) FROM bookings`); n != 2 {
		t.Fatalf("%d bookings, want 2", n)
	}
}

type schedBooking struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Date      string `json:"date"`
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
}

func TestCancelAndRescheduleOverHTTP(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	tue := mon.AddDate(0, 0, 1)
	for _, d := range []time.Time{mon, tue} {
		ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
			map[string]string{"date": schedDate(d), "start": "09:00", "end": "12:00"}, 201, nil)
	}
	s1, _ := ts.signUp(market.RoleStudent)
	s2, _ := ts.signUp(market.RoleStudent)
	stranger, _ := ts.signUp(market.RoleStudent)
	var b1, b2 schedBooking
	ts.doJSON("POST", "/api/v1/bookings", s1, schedBookingBody(in.ID, offer, mon, "09:00", 60), 201, &b1)
	ts.doJSON("POST", "/api/v1/bookings", s2, schedBookingBody(in.ID, offer, mon, "10:00", 60), 201, &b2)

	// Reschedule onto the other lesson: 409 and nothing moved.
	seq := fetchAvailability(ts, in.ID, mon, mon).Seq
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b1.ID+"/reschedule", s1,
		map[string]string{"date": schedDate(mon), "start_time": "10:30"}, 409, market.ESLOTUNAVAIL)
	var same schedBooking
	ts.doJSON("GET", "/api/v1/bookings/"+b1.ID, s1, nil, 200, &same)
	if same != b1 || fetchAvailability(ts, in.ID, mon, mon).Seq != seq {
		t.Fatalf("after a failed reschedule: %+v (seq %d)", same, seq)
	}
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b1.ID+"/reschedule", s1, map[string]string{"date": schedDate(mon)}, 422, market.EVALIDATION)
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b1.ID+"/reschedule", stranger,
		map[string]string{"date": schedDate(tue), "start_time": "10:00"}, 404, market.ENOTFOUND)

	var moved schedBooking
	ts.doJSON("POST", "/api/v1/bookings/"+b1.ID+"/reschedule", s1,
		map[string]string{"date": schedDate(tue), "start_time": "10:00"}, 200, &moved)
	if moved.ID != b1.ID || moved.Date != schedDate(tue) || moved.StartTime != "10:00" || moved.EndTime != "11:00" || moved.Status != "confirmed" {
		t.Fatalf("moved %+v", moved)
	}
	if a := fetchAvailability(ts, in.ID, mon, tue); a.Seq != seq+1 ||
		!reflect.DeepEqual(a.Days[0].Open, schedSpans("09:00", "10:00", "11:00", "12:00")) ||
		!reflect.DeepEqual(a.Days[1].Open, schedSpans("09:00", "10:00", "11:00", "12:00")) {
		t.Fatalf("availability after the move %+v", a)
	}

	// Cancel: strangers see nothing; the instructor may cancel; the slot is free again.
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b2.ID+"/cancel", stranger, nil, 404, market.ENOTFOUND)
	expectAPIError(ts, "GET", "/api/v1/bookings/"+b2.ID, stranger, nil, 404, market.ENOTFOUND)
	expectAPIError(ts, "POST", "/api/v1/bookings/not-a-uuid/cancel", s2, nil, 404, market.ENOTFOUND)
	var cancelled schedBooking
	ts.doJSON("POST", "/api/v1/bookings/"+b2.ID+"/cancel", tok, map[string]string{"reason": "ill"}, 200, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Fatalf("cancelled %+v", cancelled)
	}
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b2.ID+"/cancel", s2, nil, 409, market.ECONFLICT)
	ts.doJSON("POST", "/api/v1/bookings", stranger, schedBookingBody(in.ID, offer, mon, "10:00", 60), 201, nil)

	// My Lessons per role.
	var list struct {
		Items      []schedBooking `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}
	ts.doJSON("GET", "/api/v1/bookings?scope=upcoming", s2, nil, 200, &list)
	if len(list.Items) != 0 || list.NextCursor != nil {
		t.Fatalf("s2 upcoming %+v", list)
	}
	ts.doJSON("GET", "/api/v1/bookings?scope=past", s2, nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != b2.ID {
		t.Fatalf("s2 past %+v", list)
	}
	ts.doJSON("GET", "/api/v1/bookings?scope=upcoming&limit=1", tok, nil, 200, &list)
	if len(list.Items) != 1 || list.NextCursor == nil {
		t.Fatalf("instructor first page %+v", list)
	}
	first := list.Items[0].ID
	ts.doJSON("GET", "/api/v1/bookings?scope=upcoming&limit=1&cursor="+*list.NextCursor, tok, nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID == first || list.Items[0].ID != b1.ID {
		t.Fatalf("instructor second page %+v", list)
	}
	expectAPIError(ts, "GET", "/api/v1/bookings?scope=soon", s2, nil, 422, market.EVALIDATION)

	// Metrics and the publisher saw every committed change.
	if c, r, x := schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("cancelled")),
		schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("rescheduled")),
		schedCounter(t, ts.srv.metrics.bookings.WithLabelValues("conflict")); c != 1 || r != 1 || x != 1 {
		t.Fatalf("metrics cancelled=%v rescheduled=%v conflict=%v", c, r, x)
	}
	var kinds []string
	for _, e := range pub.events() {
		if e.Type != market.EventAvailabilityChanged && e.Type != market.EventNotificationCreated {
			kinds = append(kinds, e.Type)
		}
	}
	slices.Sort(kinds)
	want := []string{"booking.cancelled", "booking.cancelled", "booking.confirmed", "booking.confirmed", "booking.confirmed",
		"booking.created", "booking.created", "booking.created", "booking.rescheduled", "booking.rescheduled"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("published %v", kinds)
	}
}
