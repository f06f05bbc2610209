package http

import (
	"context"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"instainstru/market"
	"instainstru/store/storetest"
)

// parseICS parses an iCalendar body (failing the test when it is not
// RFC 5545 that a calendar library reads) and returns its events.
func parseICS(t *testing.T, body []byte) []*ics.VEvent {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("not iCalendar: %v\n%s", err, body)
	}
	return cal.Events()
}

func TestBookingCalendarFileIsForItsPartiesAndStatesTimePlaceAndPolicy(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.PublicURL = "https://hub.example" })
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok, map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	student, su := ts.signUp(market.RoleStudent)
	stranger, _ := ts.signUp(market.RoleStudent)
	var b market.Booking
	body := schedBookingBody(in.ID, offer, mon, "10:00", 60)
	body["address"] = "10 Jay St, lobby"
	ts.doJSON("POST", "/api/v1/bookings", student, body, 201, &b)

	resp, data := ts.do("GET", "/api/v1/bookings/"+b.ID+"/calendar.ics", student, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("calendar.ics: %d %v", resp.StatusCode, resp.Header)
	}
	evs := parseICS(t, data)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(b.StartsAt) {
		t.Errorf("DTSTART %v (%v), want %v", start, err, b.StartsAt)
	}
	end, _ := ev.GetEndAt()
	if !end.Equal(b.EndsAt) || ev.Id() != b.ID+"@instainstru" {
		t.Errorf("DTEND %v UID %s", end, ev.Id())
	}
	prop := func(p ics.ComponentProperty) string {
		if x := ev.GetProperty(p); x != nil {
			return x.Value
		}
		return ""
	}
	if s := prop(ics.ComponentPropertySummary); !strings.Contains(s, "with "+in.FullName) {
		t.Errorf("student's SUMMARY %q", s)
	}
	if l := prop(ics.ComponentPropertyLocation); !strings.Contains(l, "10 Jay St") {
		t.Errorf("LOCATION %q", l)
	}
	if d := prop(ics.ComponentPropertyDescription); !strings.Contains(d, "Free cancellation until") || !strings.Contains(d, "https://hub.example/#/lessons/"+b.ID) {
		t.Errorf("DESCRIPTION %q", d)
	}

	// The instructor's copy names the student; a stranger gets 404.
	_, data = ts.do("GET", "/api/v1/bookings/"+b.ID+"/calendar.ics", tok, nil)
	if ev := parseICS(t, data)[0]; !strings.Contains(ev.GetProperty(ics.ComponentPropertySummary).Value, su.FullName) {
		t.Errorf("instructor's SUMMARY %q", ev.GetProperty(ics.ComponentPropertySummary).Value)
	}
	expectAPIError(ts, "GET", "/api/v1/bookings/"+b.ID+"/calendar.ics", stranger, nil, 404, market.ENOTFOUND)
	if resp, _ := ts.do("GET", "/api/v1/bookings/"+b.ID+"/calendar.ics", "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous calendar.ics: %d", resp.StatusCode)
	}
}

func TestCalendarFeedIsPrivateRotatableAndStoredHashed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok, map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	student, su := ts.signUp(market.RoleStudent)
	var b1, b2 market.Booking
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:00", 60), 201, &b1)
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "11:00", 60), 201, &b2)
	ts.doJSON("POST", "/api/v1/bookings/"+b2.ID+"/cancel", student, nil, 200, nil)

	var none calendarFeedView
	ts.doJSON("GET", "/api/v1/me/calendar-feed", student, nil, 200, &none)
	if none.Active || none.URL != nil {
		t.Fatalf("before: %+v", none)
	}
	var feed calendarFeedView
	ts.doJSON("POST", "/api/v1/me/calendar-feed", student, nil, 201, &feed)
	if !feed.Active || feed.URL == nil || !strings.HasSuffix(*feed.URL, ".ics") {
		t.Fatalf("rotate: %+v", feed)
	}
	path := (*feed.URL)[strings.Index(*feed.URL, "/api/v1/calendar/"):]
	resp, data := ts.do("GET", path, "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", resp.StatusCode, data)
	}
	// Upcoming confirmed lessons only: the cancelled one is not in it.
	if evs := parseICS(t, data); len(evs) != 1 || evs[0].Id() != b1.ID+"@instainstru" {
		t.Fatalf("feed events: %d", len(evs))
	}
	// Only the hash is stored.
	token := strings.TrimSuffix(path[len("/api/v1/calendar/"):], ".ics")
	var raw int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(),
		`SELECT count(*) FROM calendar_feeds WHERE user_id = $1 AND position(convert_to($2, 'UTF8') in token_hash) = 0 AND octet_length(token_hash) = 32`,
		su.ID, token).Scan(&raw); err != nil || raw != 1 {
		t.Fatalf("stored feed rows holding only a hash: %d (%v)", raw, err)
	}
	var got calendarFeedView
	ts.doJSON("GET", "/api/v1/me/calendar-feed", student, nil, 200, &got)
	if !got.Active || got.URL != nil || got.CreatedAt == nil || time.Since(*got.CreatedAt) > time.Minute {
		t.Fatalf("after: %+v", got)
	}

	// Rotating ends the old URL; unknown and malformed tokens are 404.
	ts.doJSON("POST", "/api/v1/me/calendar-feed", student, nil, 201, &feed)
	for _, p := range []string{path, "/api/v1/calendar/" + strings.Repeat("A", 43) + ".ics", "/api/v1/calendar/short.ics"} {
		if resp, _ := ts.do("GET", p, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := ts.do("GET", (*feed.URL)[strings.Index(*feed.URL, "/api/v1/"):], "", nil); resp.StatusCode != 200 {
		t.Errorf("the new URL: %d", resp.StatusCode)
	}
}
