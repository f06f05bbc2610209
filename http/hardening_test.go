package http

import (
	"context"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// futureDate is a date d days from now, as the API writes dates.
func futureDate(d int) string { return time.Now().AddDate(0, 0, d).Format(time.DateOnly) }

// mondayAfter returns the first Monday at least d days from now.
func mondayAfter(d int) time.Time {
	t := time.Now().AddDate(0, 0, d)
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func TestInstructorWhoseRoleWasRevokedIsNotBookable(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	date := futureDate(3)
	_, instructor, offer := n.bookableInstructor(db, date)
	student, _ := n.register(market.RoleStudent)
	book := func(start string) int {
		return n.call("POST", "/api/v1/bookings", student, map[string]any{
			"instructor_id": instructor, "instructor_service_id": offer,
			"date": date, "start_time": start, "duration_minutes": 60,
		}, nil)
	}
	avail := "/api/v1/instructors/" + instructor + "/availability?from=" + date + "&to=" + date
	if st := book("09:00"); st != 201 {
		t.Fatalf("booking before the revocation: %d", st)
	}
	if _, err := storetest.Pool(db).Exec(context.Background(),
		`DELETE FROM user_roles WHERE user_id = $1 AND role = 'instructor'`, instructor); err != nil {
		t.Fatal(err)
	}
	if st := n.call("GET", "/api/v1/instructors/"+instructor, "", nil, nil); st != 404 {
		t.Fatalf("profile after revocation: %d", st)
	}
	if st := n.call("GET", avail, "", nil, nil); st != 404 {
		t.Fatalf("availability after revocation: %d, want 404", st)
	}
	var e apiError
	if st := n.call("POST", "/api/v1/bookings", student, map[string]any{
		"instructor_id": instructor, "instructor_service_id": offer,
		"date": date, "start_time": "10:00", "duration_minutes": 60,
	}, &e); st != 404 || e.Error.Code != market.ENOTFOUND {
		t.Fatalf("booking after revocation: %d %+v, want 404 not_found", st, e)
	}
	var count int
	if err := storetest.Pool(db).QueryRow(context.Background(), `SELECT count(*) FROM bookings WHERE instructor_id = $1`,
		instructor).Scan(&count); err != nil || count != 1 {
		t.Fatalf("bookings of the revoked instructor: %d (%v), want only the one made before", count, err)
	}
}

func TestDatesBeyondTheHorizonAre422NotStoredOr500(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	date := futureDate(3)
	instrToken, instructor, offer := n.bookableInstructor(db, date)
	student, _ := n.register(market.RoleStudent)
	var booking struct {
		ID string `json:"id"`
	}
	if st := n.call("POST", "/api/v1/bookings", student, map[string]any{
		"instructor_id": instructor, "instructor_service_id": offer,
		"date": date, "start_time": "09:00", "duration_minutes": 60,
	}, &booking); st != 201 {
		t.Fatalf("booking: %d", st)
	}
	// A window the old code let in (year 9999): a booking inside it must be
	// refused by the horizon, before any instant near year 10000 is computed.
	if _, err := storetest.Pool(db).Exec(context.Background(), `INSERT INTO availability_windows
		(instructor_id, date, start_time, end_time) VALUES ($1, '9999-12-31', '22:00', '24:00')`, instructor); err != nil {
		t.Fatal(err)
	}
	far := mondayAfter(365*market.HorizonYears + 10)
	farDate := far.Format(time.DateOnly)
	inside := mondayAfter(365*market.HorizonYears - 30)
	tests := []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"a window in year 9999", "POST", "/api/v1/instructors/me/availability", instrToken,
			map[string]string{"date": "9999-12-31", "start": "09:00", "end": "10:00"}, "date"},
		{"a window just past the horizon", "POST", "/api/v1/instructors/me/availability", instrToken,
			map[string]string{"date": farDate, "start": "09:00", "end": "10:00"}, "date"},
		{"replacing a week past the horizon", "PUT", "/api/v1/instructors/me/availability/week", instrToken,
			map[string]any{"week_start": farDate, "days": []any{}}, "week_start"},
		{"copy-week into year 9999", "POST", "/api/v1/instructors/me/availability/copy-week", instrToken,
			map[string]string{"from_week_start": mondayAfter(7).Format(time.DateOnly), "to_week_start": "9999-12-27"}, "to_week_start"},
		{"apply-pattern up to year 9999", "POST", "/api/v1/instructors/me/availability/apply-pattern", instrToken,
			map[string]string{"week_start": mondayAfter(7).Format(time.DateOnly), "from": "9999-10-01", "to": "9999-12-01"}, "to"},
		{"a booking on 9999-12-31 23:00", "POST", "/api/v1/bookings", student, map[string]any{
			"instructor_id": instructor, "instructor_service_id": offer,
			"date": "9999-12-31", "start_time": "23:00", "duration_minutes": 60}, "date"},
		{"a reschedule past the horizon", "POST", "/api/v1/bookings/" + booking.ID + "/reschedule", student,
			map[string]string{"date": farDate, "start_time": "09:00"}, "date"},
		{"an availability range past the horizon", "GET",
			"/api/v1/instructors/" + instructor + "/availability?from=9999-12-25&to=9999-12-31", "", nil, "to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			st := n.call(tc.method, tc.path, tc.token, tc.body, &e)
			if st != 422 || e.Error.Code != market.EVALIDATION || e.Error.Details[tc.field] == nil {
				t.Fatalf("status %d %+v, want 422 with details.%s", st, e, tc.field)
			}
		})
	}
	var far9999 int
	if err := storetest.Pool(db).QueryRow(context.Background(),
		`SELECT count(*) FROM availability_windows WHERE date > now() + interval '3 years' AND date <> '9999-12-31'`).Scan(&far9999); err != nil || far9999 != 0 {
		t.Fatalf("windows stored past the horizon: %d (%v)", far9999, err)
	}
	// Inside the horizon still works.
	if st := n.call("POST", "/api/v1/instructors/me/availability", instrToken,
		map[string]string{"date": inside.Format(time.DateOnly), "start": "09:00", "end": "10:00"}, nil); st != 201 {
		t.Fatalf("a window %s, inside the horizon: %d", inside.Format(time.DateOnly), st)
	}
}
