package http

import (
	"net/url"
	"testing"

	"instainstru/market"
)

// An instructor who has not verified their email address is not listed,
// answers 404 on the public detail to others (they see their own, and
// GET /instructors/me) and cannot be booked (409 instructor_unavailable); once verified
// they are listed and bookable.
func TestUnverifiedInstructorIsNotListedOrBookableOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	ts.setVerified(in.ID, false)
	student, _ := ts.signUp(market.RoleStudent)

	listed := func() bool {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		ts.doJSON("GET", "/api/v1/instructors?q="+url.QueryEscape(in.FullName), "", nil, 200, &page)
		for _, it := range page.Items {
			if it.ID == in.ID {
				return true
			}
		}
		return false
	}
	if listed() {
		t.Fatal("GET /instructors lists an unverified instructor")
	}
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, student, nil, 404, nil)
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, "", nil, 404, nil)
	ts.doJSON("GET", "/api/v1/instructors/me", tok, nil, 200, nil)
	var self struct {
		ID       string `json:"id"`
		Services []any  `json:"services"`
	}
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, tok, nil, 200, &self) // their own public page
	if self.ID != in.ID || len(self.Services) != 1 {
		t.Fatalf("own public page: %+v", self)
	}
	resp, data := ts.do("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:30", 30))
	if resp.StatusCode != 409 || decodeAPIError(t, data).Error.Code != market.EINSTRUCTORUNAVAIL {
		t.Fatalf("booking an unverified instructor: %d %s, want 409 %s", resp.StatusCode, data, market.EINSTRUCTORUNAVAIL)
	}

	ts.setVerified(in.ID, true)
	if !listed() {
		t.Fatal("GET /instructors leaves out a verified instructor")
	}
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, student, nil, 200, nil)
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:30", 30), 201, nil)
}

// ALLOW_UNVERIFIED_BOOKING (load tests) lets an unverified instructor be
// booked; they stay unlisted.
func TestUnverifiedInstructorIsBookableOnlyUnderTheLoadTestSwitch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.AllowUnverifiedBooking = true })
	tok, in, offer := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	ts.setVerified(in.ID, false)
	student, _ := ts.signUp(market.RoleStudent)
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, student, nil, 404, nil)
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, mon, "09:30", 30), 201, nil)
}
