package http

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// staffToken creates an admin or support account on the node's database
// and logs it in.
func (n *rtNode) staffToken(db *store.DB, role string) string {
	n.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		n.t.Fatal(err)
	}
	email := role + "-" + storetest.RandomSuffix() + "@example.com"
	if _, err := db.CreateUser(context.Background(), market.NewUser{Email: email, PasswordHash: string(hash),
		FullName: "Staff " + role, Role: role}); err != nil {
		n.t.Fatal(err)
	}
	var tr tokenResponse
	if st := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": testPassword}, &tr); st != 200 {
		n.t.Fatalf("login %s: %d", role, st)
	}
	return tr.AccessToken
}

func TestAdminCancelsAnyBookingWithAReasonAndPartiesAndWatchersArePushed(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "node-a")
	date := time.Now().In(mustLoc(t, market.DefaultTimezone)).AddDate(0, 0, 3).Format(time.DateOnly)
	instToken, instID, offer := n.bookableInstructor(db, date)
	studToken, studID := n.register(market.RoleStudent)
	admin := n.staffToken(db, market.RoleAdmin)
	support := n.staffToken(db, market.RoleSupport)

	var booking market.Booking
	if st := n.call("POST", "/api/v1/bookings", studToken, map[string]any{
		"instructor_id": instID, "instructor_service_id": offer, "date": date, "start_time": "10:00", "duration_minutes": 60,
	}, &booking); st != 201 {
		t.Fatalf("book: %d", st)
	}
	instructorWS := dialWS(t, n.ws, bearer(instToken))
	studentWS := dialWS(t, n.ws, bearer(studToken))
	watcher := dialWS(t, n.ws, nil)
	for _, c := range []*rtClient{instructorWS, studentWS, watcher} {
		c.expect("welcome")
	}
	topic := market.AvailabilityTopic(instID)
	seq, err := db.TopicSeq(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	watcher.subscribe(topic, seq)

	// Support sees the booking in the console's list but cannot cancel it,
	// through either cancel route.
	var list adminBookingList
	if st := n.call("GET", "/api/v1/admin/bookings?instructor_id="+instID+"&status=confirmed", support, nil, &list); st != 200 ||
		len(list.Items) != 1 || list.Items[0].ID != booking.ID || list.Items[0].StudentName == "" || list.Items[0].ServiceName != "Piano" {
		t.Fatalf("support list: %d %+v", st, list)
	}
	if st := n.call("POST", "/api/v1/admin/bookings/"+booking.ID+"/cancel", support, map[string]string{"reason": "nope"}, nil); st != 403 {
		t.Fatalf("support admin-cancel: %d", st)
	}
	if st := n.call("POST", "/api/v1/bookings/"+booking.ID+"/cancel", support, nil, nil); st != 403 {
		t.Fatalf("support cancel: %d", st)
	}
	if st := n.call("GET", "/api/v1/bookings/"+booking.ID, support, nil, nil); st != 403 {
		t.Fatalf("support has no bookings:read, got %d", st)
	}
	// A reason is required.
	if st := n.call("POST", "/api/v1/admin/bookings/"+booking.ID+"/cancel", admin, map[string]string{}, nil); st != 422 {
		t.Fatalf("cancel without reason: %d", st)
	}

	var cancelled market.Booking
	if st := n.call("POST", "/api/v1/admin/bookings/"+booking.ID+"/cancel", admin,
		map[string]string{"reason": "instructor is ill"}, &cancelled); st != 200 || cancelled.Status != market.BookingCancelled {
		t.Fatalf("admin cancel: %d %+v", st, cancelled)
	}
	for name, c := range map[string]*rtClient{"instructor": instructorWS, "student": studentWS} {
		id := map[string]string{"instructor": instID, "student": studID}[name]
		ev := c.events(market.UserTopic(id), 1, 5*time.Second)[0]
		if ev.Event != market.EventBookingCancelled || !strings.Contains(string(ev.Data), booking.ID) {
			t.Fatalf("%s got %s %s", name, ev.Event, ev.Data)
		}
	}
	ev := watcher.events(topic, 1, 5*time.Second)[0]
	var data market.AvailabilityChanged
	if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Seq != seq+1 || len(data.Days) != 1 ||
		len(data.Days[0].Open) != 1 || data.Days[0].Open[0] != (market.Interval{Start: "09:00", End: "12:00"}) {
		t.Fatalf("watcher got %s seq %d %s", ev.Event, ev.Seq, ev.Data)
	}
	// The reason is kept; cancelling again is a conflict.
	if st := n.call("GET", "/api/v1/admin/bookings?status=cancelled&q=realtime", support, nil, &list); st != 200 ||
		len(list.Items) != 1 || list.Items[0].CancelReason == nil || *list.Items[0].CancelReason != "instructor is ill" {
		t.Fatalf("cancelled list: %d %+v", st, list)
	}
	if st := n.call("POST", "/api/v1/admin/bookings/"+booking.ID+"/cancel", admin, map[string]string{"reason": "again"}, nil); st != 409 {
		t.Fatalf("second cancel: %d", st)
	}
}

func TestAdminBookingFiltersAndBadInput(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	tue := mon.AddDate(0, 0, 1)
	for _, d := range []time.Time{mon, tue} {
		ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
			map[string]string{"date": schedDate(d), "start": "09:00", "end": "12:00"}, 201, nil)
	}
	s1, u1 := ts.signUp(market.RoleStudent)
	s2, _ := ts.signUp(market.RoleStudent)
	admin, _ := ts.signUp(market.RoleAdmin)
	var b1, b2, b3 schedBooking
	ts.doJSON("POST", "/api/v1/bookings", s1, schedBookingBody(in.ID, offer, mon, "09:00", 60), 201, &b1)
	ts.doJSON("POST", "/api/v1/bookings", s2, schedBookingBody(in.ID, offer, mon, "10:00", 60), 201, &b2)
	ts.doJSON("POST", "/api/v1/bookings", s1, schedBookingBody(in.ID, offer, tue, "09:00", 60), 201, &b3)
	ts.doJSON("POST", "/api/v1/bookings/"+b2.ID+"/cancel", s2, nil, 200, nil)

	ids := func(q string) string {
		var l adminBookingList
		ts.doJSON("GET", "/api/v1/admin/bookings?"+q, admin, nil, 200, &l)
		var out []string
		for _, b := range l.Items {
			out = append(out, map[string]string{b1.ID: "b1", b2.ID: "b2", b3.ID: "b3"}[b.ID])
		}
		return strings.Join(out, ",")
	}
	tests := map[string]string{
		"":                                     "b3,b2,b1", // latest lesson first
		"student_id=" + u1.ID:                  "b3,b1",
		"status=cancelled":                     "b2",
		"from=" + schedDate(tue):               "b3",
		"to=" + schedDate(mon):                 "b2,b1",
		"instructor_id=" + in.ID:               "b3,b2,b1",
		"instructor_id=" + u1.ID:               "",
		"limit=2":                              "b3,b2",
		"q=" + strings.Split(in.Email, "@")[0]: "b3,b2,b1",
	}
	for q, want := range tests {
		if got := ids(q); got != want {
			t.Errorf("?%s: %s, want %s", q, got, want)
		}
	}
	var page adminBookingList
	ts.doJSON("GET", "/api/v1/admin/bookings?limit=2", admin, nil, 200, &page)
	if page.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	if got := ids("limit=2&cursor=" + *page.NextCursor); got != "b1" {
		t.Errorf("second page %s", got)
	}
	for _, q := range []string{"status=lost", "instructor_id=x", "from=2027-13-01", "from=2027-02-02&to=2027-02-01", "cursor=zz", "limit=0"} {
		ts.doJSON("GET", "/api/v1/admin/bookings?"+q, admin, nil, 422, nil)
	}
}

func TestAnalyticsEndpointsAnswerSeriesAndRefuseBadRanges(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, in, _ := newSchedInstructor(ts)
	support, _ := ts.signUp(market.RoleSupport)
	// A view of the public page is recorded, with nothing about the viewer.
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, "", nil, 200, nil)
	today := time.Now().In(mustLoc(t, market.AnalyticsZone)).Format(time.DateOnly)
	var conv struct {
		From, To string
		Series   []market.ConversionDay
	}
	ts.doJSON("GET", "/api/v1/admin/analytics/conversion", support, nil, 200, &conv)
	if conv.To != today || len(conv.Series) != 30 || conv.Series[29].Date != today || conv.Series[29].Views != 1 {
		t.Fatalf("conversion: %+v", conv)
	}
	for _, a := range ts.srv.analyticsEndpoints() {
		path := "/api/v1/admin/analytics/" + a.name
		var ok map[string]any
		ts.doJSON("GET", path+"?from=2027-01-01&to=2027-12-31", support, nil, 200, &ok)
		if _, has := ok["series"].([]any); !has {
			t.Errorf("%s: no series in %v", a.name, ok)
		}
		for _, q := range []string{"from=2027-01-01&to=2028-01-02", "from=2027-02-02&to=2027-02-01", "from=yesterday", "to=2027-02-30"} {
			ts.doJSON("GET", path+"?"+q, support, nil, 422, nil)
		}
	}
	var insts adminInstructorList
	ts.doJSON("GET", "/api/v1/admin/instructors", support, nil, 200, &insts)
	if len(insts.Items) != 1 || insts.Items[0].ID != in.ID || !insts.Items[0].Listed || insts.Items[0].ActiveServices != 1 {
		t.Fatalf("instructors: %+v", insts)
	}
}
