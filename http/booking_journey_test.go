package http

import (
	"context"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

func TestTheFirstOfferIsTheMainServiceNotTheFirstAlphabetically(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in := ts.signUp(market.RoleInstructor)
	piano := ts.offerService(tok, ts.newCatalogService("Piano"), 9500)
	voice := ts.offerService(tok, ts.newCatalogService("Classical Voice"), 9000)
	var got market.Instructor
	ts.doJSON("GET", "/api/v1/instructors/"+in.ID, "", nil, 200, &got)
	main := map[string]bool{}
	for _, s := range got.Services {
		main[s.ID] = s.Main
	}
	if len(got.Services) != 2 || got.Services[0].ID != voice || !main[piano] || main[voice] {
		t.Fatalf("services %+v: want Piano (first offered) main, listed after Classical Voice", got.Services)
	}
}

func TestBookingsCarryTheViewersPolicy(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, offer := newSchedInstructor(ts)
	// Tomorrow at 09:00 New York: inside a 48-hour notice.
	ny, _ := time.LoadLocation(market.DefaultTimezone)
	day := time.Now().In(ny).AddDate(0, 0, 1)
	date := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok, map[string]string{"date": schedDate(date), "start": "09:00", "end": "12:00"}, 201, nil)
	student, _ := ts.signUp(market.RoleStudent)
	var b market.Booking
	ts.doJSON("POST", "/api/v1/bookings", student, schedBookingBody(in.ID, offer, date, "09:00", 60), 201, &b)

	type policy struct {
		CanCancel     bool       `json:"can_cancel"`
		CanReschedule bool       `json:"can_reschedule"`
		FreeUntil     *time.Time `json:"free_until"`
		LateNow       bool       `json:"late_if_cancelled_now"`
		Notice        int        `json:"cancellation_notice_hours"`
	}
	var p policy
	if _, err := storetest.Pool(ts.db).Exec(context.Background(), `UPDATE instructor_profiles SET cancellation_notice_hours = 48 WHERE user_id = $1`, in.ID); err != nil {
		t.Fatal(err)
	}
	ts.doJSON("GET", "/api/v1/bookings/"+b.ID, student, nil, 200, &p)
	if !p.CanCancel || p.CanReschedule || !p.LateNow || p.Notice != 48 || p.FreeUntil == nil || !p.FreeUntil.Equal(b.StartsAt.Add(-48*time.Hour)) {
		t.Fatalf("student inside the notice: %+v (starts %v)", p, b.StartsAt)
	}
	// The instructor may still move it, and cancels without a late mark.
	ts.doJSON("GET", "/api/v1/bookings/"+b.ID, tok, nil, 200, &p)
	if !p.CanCancel || !p.CanReschedule || p.LateNow {
		t.Fatalf("instructor: %+v", p)
	}
	// The page offers only what the server accepts: the refused move is 409.
	expectAPIError(ts, "POST", "/api/v1/bookings/"+b.ID+"/reschedule", student,
		map[string]string{"date": schedDate(date), "start_time": "10:00"}, 409, market.EINSIDENOTICE)
	var list struct {
		Items []policy `json:"items"`
	}
	ts.doJSON("GET", "/api/v1/bookings?scope=upcoming", student, nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].CanReschedule || !list.Items[0].LateNow {
		t.Fatalf("list: %+v", list.Items)
	}
	var cancelled policy
	ts.doJSON("POST", "/api/v1/bookings/"+b.ID+"/cancel", student, nil, 200, &cancelled)
	if cancelled.CanCancel || cancelled.CanReschedule {
		t.Fatalf("after cancelling: %+v", cancelled)
	}
}
