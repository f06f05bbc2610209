package http

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"instainstru/cmd/hubd/node"
	"instainstru/market"
	"instainstru/store/storetest"
)

// pastLesson books, through the store with a clock in the past, a
// 60-minute lesson of studentID with the instructor that ended about an
// hour ago (real clock), and returns it.
func (ts *testServer) pastLesson(instructorID, offer, studentID string) *market.Booking {
	ts.t.Helper()
	ny, _ := time.LoadLocation(market.DefaultTimezone)
	start := time.Now().In(ny).Add(-2 * time.Hour).Truncate(15 * time.Minute)
	if start.Hour() >= 23 { // keep the lesson on one local date
		start = start.Add(-2 * time.Hour)
	}
	end := start.Add(time.Hour)
	date := start.Format(time.DateOnly)
	then := func() time.Time { return start.Add(-2 * time.Hour) }
	ctx := context.Background()
	if _, err := ts.db.AddWindow(ctx, instructorID, date, market.WindowInput{Start: start.Format("15:04"), End: end.Format("15:04")}, then); err != nil {
		ts.t.Fatalf("past window: %v", err)
	}
	r, err := ts.db.CreateBooking(ctx, market.NewBooking{StudentID: studentID, InstructorID: instructorID,
		InstructorServiceID: offer, Date: date, StartTime: start.Format("15:04"), DurationMinutes: 60, Now: then})
	if err != nil {
		ts.t.Fatalf("past booking: %v", err)
	}
	return r.Booking
}

func TestBookingLocationIsChosenFromTheInstructorsAreasOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"areas": []string{"Astoria", "Harlem"}}, 200, nil)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	student, su := ts.signUp(market.RoleStudent)

	body := schedBookingBody(in.ID, offer, mon, "09:00", 60)
	var first map[string]any
	ts.doJSON("POST", "/api/v1/bookings", student, body, 201, &first)
	if loc := first["location"].(map[string]any); loc["area"] != "Astoria" || loc["address"] != nil {
		t.Fatalf("default location %v", loc)
	}
	if first["student"].(map[string]any)["full_name"] != su.FullName || first["instructor"].(map[string]any)["full_name"] != in.FullName ||
		first["service_name"] == "" || first["late"] != false {
		t.Fatalf("who and what missing: %v", first)
	}
	body = schedBookingBody(in.ID, offer, mon, "10:00", 60)
	body["area"], body["address"] = "Harlem", "Café Ñandú, 2nd floor — ring 東京"
	var second market.Booking
	ts.doJSON("POST", "/api/v1/bookings", student, body, 201, &second)
	if second.Location.Area != "Harlem" || second.Location.Address == nil || *second.Location.Address != "Café Ñandú, 2nd floor — ring 東京" {
		t.Fatalf("chosen location %+v", second.Location)
	}

	with := func(edit func(map[string]any)) map[string]any {
		b := schedBookingBody(in.ID, offer, mon, "11:00", 60)
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
		{"area not served", with(func(b map[string]any) { b["area"] = "Bushwick" }), 422, market.EVALIDATION, "area"},
		{"area over-long", with(func(b map[string]any) { b["area"] = strings.Repeat("A", 65) }), 422, market.EVALIDATION, "area"},
		{"area as a list", with(func(b map[string]any) { b["area"] = []string{"Harlem"} }), 400, market.EMALFORMED, "area"},
		{"address as a number", with(func(b map[string]any) { b["address"] = 12 }), 400, market.EMALFORMED, "address"},
		{"address over-long", with(func(b map[string]any) { b["address"] = strings.Repeat("ß", market.MaxAddressLen+1) }), 422, market.EVALIDATION, "address"},
		{"address with a right-to-left override", with(func(b map[string]any) { b["address"] = "5 Main St \u202Etxt.exe" }), 422, market.EVALIDATION, "address"},
		{"address with a left-to-right embedding", with(func(b map[string]any) { b["address"] = "\u202A5 Main St" }), 422, market.EVALIDATION, "address"},
		{"address with an escape character", with(func(b map[string]any) { b["address"] = "5 Main St\x1b[31m" }), 422, market.EVALIDATION, "address"},
		{"address with NUL", `{"instructor_id":"` + in.ID + `","instructor_service_id":"` + offer + `","date":"` + schedDate(mon) +
			`","start_time":"11:00","duration_minutes":60,"address":"a\u0000b"}`, 422, market.EVALIDATION, "address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := ts.sub(t)
			e := expectAPIError(ts, "POST", "/api/v1/bookings", student, tc.body, tc.status, tc.code)
			if e.Error.Details[tc.field] == nil {
				t.Fatalf("details %v do not name %q", e.Error.Details, tc.field)
			}
			if n := countRows(ts, `SELECT count(*) FROM bookings`); n != 2 {
				t.Fatalf("%d bookings written, want 2", n)
			}
		})
	}
}

func TestCancellationNoticeIsSetOnTheProfileAndShownPublicly(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in := ts.signUp(market.RoleInstructor)
	var pub map[string]any
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, "", nil, 200, &pub)
	if pub["cancellation_notice_hours"] != float64(24) {
		t.Fatalf("default notice %v", pub["cancellation_notice_hours"])
	}
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"bio": "x", "cancellation_notice_hours": 0}, 200, nil)
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, "", nil, 200, &pub)
	if pub["cancellation_notice_hours"] != float64(0) {
		t.Fatalf("notice after setting 0: %v", pub["cancellation_notice_hours"])
	}
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"cancellation_notice_hours": 48}, 200, nil)
	bad := []struct {
		name   string
		value  any
		status int
	}{
		{"negative", -1, 422},
		{"over two weeks", 337, 422},
		{"text", "12", 400},
		{"fraction", 1.5, 400},
		{"huge", 1e20, 400},
	}
	for _, tc := range bad {
		expectAPIError(ts.sub(t), "PUT", "/api/v1/instructors/me", tok, map[string]any{"cancellation_notice_hours": tc.value}, tc.status,
			map[int]string{400: market.EMALFORMED, 422: market.EVALIDATION}[tc.status])
	}
	var own map[string]any
	ts.doJSON("GET", "/api/v1/instructors/me", tok, nil, 200, &own)
	if own["cancellation_notice_hours"] != float64(48) {
		t.Fatalf("refused updates changed the notice: %v", own["cancellation_notice_hours"])
	}
	// PUT replaces the profile: an absent notice is the default again.
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"bio": "y"}, 200, &own)
	if own["cancellation_notice_hours"] != float64(24) {
		t.Fatalf("absent notice became %v", own["cancellation_notice_hours"])
	}
}

func TestLateCancellationAndRescheduleInsideTheNoticeOverHTTP(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	// Two weeks of notice puts next week's lessons inside it.
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"cancellation_notice_hours": 336}, 200, nil)
	mon := schedWeek()
	for _, d := range []time.Time{mon, mon.AddDate(0, 0, 1)} {
		ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
			map[string]string{"date": schedDate(d), "start": "09:00", "end": "12:00"}, 201, nil)
	}
	student, _ := ts.signUp(market.RoleStudent)
	var b, other market.Booking
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:00", 60), 201, &b)
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "10:00", 60), 201, &other)

	e := expectAPIError(ts, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", student,
		map[string]string{"date": schedDate(mon.AddDate(0, 0, 1)), "start_time": "09:00"}, 409, market.EINSIDENOTICE)
	if e.Error.Details["cancellation_notice_hours"] != float64(336) {
		t.Fatalf("details %v", e.Error.Details)
	}
	// The instructor may still move it.
	ts.doJSON("POST", "/api/v1/bookings/"+b.ID+"/reschedule", tok,
		map[string]string{"date": schedDate(mon.AddDate(0, 0, 1)), "start_time": "09:00"}, 200, nil)

	var cancelled market.Booking
	ts.doJSON("POST", "/api/v1/bookings/"+b.ID+"/cancel", student, nil, 200, &cancelled)
	if !cancelled.Late || cancelled.Status != market.BookingCancelled {
		t.Fatalf("student's cancellation inside the notice: %+v", cancelled)
	}
	ts.doJSON("POST", "/api/v1/bookings/"+other.ID+"/cancel", tok, nil, 200, &cancelled)
	if cancelled.Late {
		t.Fatal("the instructor's own cancellation was marked late")
	}
	told := false
	for _, ev := range pub.events() {
		if ev.Type == market.EventBookingCancelled && ev.Topic == market.UserTopic(in.ID) && strings.Contains(string(ev.Data), `"id":"`+b.ID+`"`) {
			var data map[string]any
			mustJSON(t, ev.Data, &data)
			told = data["late"] == true
		}
	}
	if !told {
		t.Fatal("the instructor's booking.cancelled does not carry late:true")
	}
}

func TestNoShowOverHTTPOnlyForTheInstructorAfterTheLesson(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, offer := newSchedInstructor(ts)
	student, su := ts.signUp(market.RoleStudent)
	stranger, _ := ts.signUp(market.RoleStudent)
	past := ts.pastLesson(in.ID, offer, su.ID)

	expectAPIError(ts, "POST", "/api/v1/bookings/"+past.ID+"/no-show", student, nil, 403, market.EFORBIDDEN)
	expectAPIError(ts, "POST", "/api/v1/bookings/"+past.ID+"/no-show", stranger, nil, 404, market.ENOTFOUND)
	expectAPIError(ts, "POST", "/api/v1/bookings/not-an-id/no-show", tok, nil, 404, market.ENOTFOUND)
	var got market.Booking
	ts.doJSON("POST", "/api/v1/bookings/"+past.ID+"/no-show", tok, nil, 200, &got)
	if got.Status != market.BookingNoShow {
		t.Fatalf("status %s", got.Status)
	}
	expectAPIError(ts, "POST", "/api/v1/bookings/"+past.ID+"/no-show", tok, nil, 409, market.ECONFLICT)
	var hist bookingList
	ts.doJSON("GET", "/api/v1/bookings?scope=past", student, nil, 200, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Status != market.BookingNoShow {
		t.Fatalf("student's history %+v", hist.Items)
	}
	pushed := map[string]bool{}
	for _, ev := range pub.events() {
		if ev.Type == market.EventBookingNoShow {
			pushed[ev.Topic] = true
		}
	}
	if !pushed[market.UserTopic(in.ID)] || !pushed[market.UserTopic(su.ID)] {
		t.Fatalf("booking.no_show pushed to %v", pushed)
	}

	// A lesson that has not happened yet cannot be a no-show.
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	var future market.Booking
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:00", 60), 201, &future)
	expectAPIError(ts, "POST", "/api/v1/bookings/"+future.ID+"/no-show", tok, nil, 409, market.ECONFLICT)
}

func TestLessonCompleterCompletesEndedLessonsAndPublishesTheEvents(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t)
	_, in, offer := newSchedInstructor(ts)
	_, su := ts.signUp(market.RoleStudent)
	past := ts.pastLesson(in.ID, offer, su.ID)
	lc := &node.LessonCompleter{Store: ts.db.WithPublisher(pub), Batch: 1, Log: ts.srv.log}
	n, err := lc.RunOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("completed %d (%v), want 1", n, err)
	}
	evs := pub.events()
	if len(evs) != 2 || evs[0].Type != market.EventBookingCompleted {
		t.Fatalf("published %+v", evs)
	}
	var b market.Booking
	mustJSON(t, evs[0].Data, &b)
	if b.ID != past.ID || b.Status != market.BookingCompleted {
		t.Fatalf("event data %+v", b)
	}
	if n, err := lc.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("second pass completed %d (%v)", n, err)
	}
}

func TestAreasListsNeighbourhoodsWithBoroughs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var out struct {
		Items []market.Area `json:"items"`
	}
	ts.doJSON("GET", "/api/v1/areas", "", nil, 200, &out)
	boroughs := map[string]string{}
	for _, a := range out.Items {
		boroughs[a.Name] = a.Borough
	}
	if len(out.Items) < 40 || boroughs["Williamsburg"] != "Brooklyn" || boroughs["Astoria"] != "Queens" || boroughs["SoHo"] != "Manhattan" {
		t.Fatalf("areas %+v", out.Items)
	}
	// Grouped by borough, as the page lists them: a borough never comes back.
	var order []string
	for _, a := range out.Items {
		if len(order) == 0 || order[len(order)-1] != a.Borough {
			if slices.Contains(order, a.Borough) {
				t.Fatalf("borough %s split in two groups: %+v", a.Borough, out.Items)
			}
			order = append(order, a.Borough)
		}
	}
	if !slices.Equal(order, []string{"Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "New Jersey"}) {
		t.Fatalf("boroughs in order %v", order)
	}
	// One source: the list is the search table, and every area on it is
	// one a profile may name.
	var rows int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `SELECT count(*) FROM search_areas`).Scan(&rows); err != nil || rows != len(out.Items) {
		t.Fatalf("%d areas listed, %d in search_areas (%v)", len(out.Items), rows, err)
	}
	tok, _ := ts.signUp(market.RoleInstructor)
	for i := 0; i < len(out.Items); i += 30 {
		var names []string
		for _, a := range out.Items[i:min(i+30, len(out.Items))] {
			names = append(names, a.Name)
		}
		var prof ownProfile
		ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"areas": names}, 200, &prof)
		if !slices.Equal(prof.Areas, names) {
			t.Fatalf("profile areas %v, want %v", prof.Areas, names)
		}
	}
}

// TestNoPersonalDetailReachesAnonymousOrThirdPartyClients books a lesson
// with a name, area, address and note on a real node, while an anonymous
// watcher and another student watch the instructor's availability, and
// checks what each client can see over REST and WebSocket.
func TestNoPersonalDetailReachesAnonymousOrThirdPartyClients(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	n := startNode(t, ts.db, "", "", "privacy-node", func(c *NodeConfig) { c.LessonCompletion = -1 })
	date := schedDate(schedWeek())
	itok, in, offer := n.bookableInstructor(ts.db, date)
	if st := n.call("PUT", "/api/v1/instructors/me", itok, map[string]any{"areas": []string{"Astoria"}}, nil); st != 200 {
		t.Fatalf("profile: %d", st)
	}
	stok, sid := n.register(market.RoleStudent)
	const studentName = "Zoë Privacy-Student"
	if _, err := storetest.Pool(ts.db).Exec(context.Background(), `UPDATE users SET full_name=$2 WHERE id=$1`, sid, studentName); err != nil {
		t.Fatal(err)
	}
	third, _ := n.register(market.RoleStudent)

	anon := dialWS(t, n.ws, nil)
	anon.expect("welcome")
	anon.subscribe(market.AvailabilityTopic(in), -1)
	other := dialWS(t, n.ws, bearer(third))
	other.expect("welcome")
	other.subscribe(market.AvailabilityTopic(in), -1)
	inst := dialWS(t, n.ws, bearer(itok))
	inst.expect("welcome")

	const address, note = "31-00 47th Ave apt 7 (buzz Zoë)", "secret-note-bring-the-Czerny"
	var b market.Booking
	if st := n.call("POST", "/api/v1/bookings", stok, map[string]any{"instructor_id": in, "instructor_service_id": offer,
		"date": date, "start_time": "09:00", "duration_minutes": 60, "area": "Astoria", "address": address, "note": note}, &b); st != 201 {
		t.Fatalf("book: %d", st)
	}
	// The instructor learns who and where.
	created := inst.events(market.UserTopic(in), 1, 5*time.Second)[0]
	var got market.Booking
	if err := json.Unmarshal(created.Data, &got); err != nil || created.Event != market.EventBookingCreated {
		t.Fatalf("instructor got %s %s", created.Event, created.Data)
	}
	if got.Student.ID != sid || got.Student.FullName != studentName || got.Location.Area != "Astoria" ||
		got.Location.Address == nil || *got.Location.Address != address || got.ServiceName != "Piano" {
		t.Fatalf("instructor's booking.created %s", created.Data)
	}
	// Watchers see the time go, and nothing about who or where.
	secrets := []string{address, note, studentName, sid, b.ID, "Astoria", "student"}
	for name, c := range map[string]*rtClient{"anonymous": anon, "third party": other} {
		ev := c.events(market.AvailabilityTopic(in), 1, 5*time.Second)[0]
		if ev.Event != market.EventAvailabilityChanged {
			t.Fatalf("%s got %s", name, ev.Event)
		}
		var data map[string]any
		mustJSON(t, ev.Data, &data)
		if keys := sortedKeys(data); keys != "days instructor_id" {
			t.Fatalf("%s: availability.changed has keys %q", name, keys)
		}
		for _, s := range secrets {
			if strings.Contains(string(ev.Data), s) {
				t.Fatalf("%s saw %q in %s", name, s, ev.Data)
			}
		}
	}
	other.quiet(300 * time.Millisecond)
	anon.quiet(50 * time.Millisecond)
	// A watcher may not join the parties' private topics.
	other.send(map[string]any{"type": "subscribe", "topic": market.UserTopic(in)})
	if f := other.expect("error"); f.Code != "forbidden" {
		t.Fatalf("third party subscribing to the instructor's topic: %s", f.Code)
	}

	// REST: the booking is invisible to a third party and to the anonymous.
	for who, tok := range map[string]string{"third party": third, "anonymous": ""} {
		var e apiError
		st := n.call("GET", "/api/v1/bookings/"+b.ID, tok, nil, &e)
		if (tok == "" && st != 401) || (tok != "" && st != 404) {
			t.Fatalf("%s GET booking: %d", who, st)
		}
		var list bookingList
		if tok != "" {
			if st := n.call("GET", "/api/v1/bookings?scope=upcoming", tok, nil, &list); st != 200 || len(list.Items) != 0 {
				t.Fatalf("%s's lessons: %d %+v", who, st, list.Items)
			}
		}
	}
	// The public profile and availability carry no booking detail either.
	for _, path := range []string{"/api/v1/instructors/" + in, fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", in, date, date)} {
		var raw json.RawMessage
		if st := n.call("GET", path, "", nil, &raw); st != 200 {
			t.Fatalf("GET %s: %d", path, st)
		}
		for _, s := range []string{address, note, studentName, sid} {
			if strings.Contains(string(raw), s) {
				t.Fatalf("GET %s shows %q", path, s)
			}
		}
	}
}
