package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// An instructor whose email address is not verified is neither listed nor
// shown to others nor bookable; their own view still works, and verifying
// makes them listed and bookable.
func TestUnverifiedInstructorIsHiddenAndNotBookable(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	w.addWindow(in, "2027-01-04", "09:00", "17:00", fixedNow)
	w.setVerified(in, false)

	listed := func() bool {
		list, _, err := w.db.ListInstructors(ctx, market.InstructorPage{Limit: 100})
		noErr(t, err)
		return slices.ContainsFunc(list, func(i market.Instructor) bool { return i.ID == in })
	}
	if listed() {
		t.Fatal("an unverified instructor is listed")
	}
	_, err := w.db.InstructorByID(ctx, in, false)
	wantCode(t, err, market.ENOTFOUND)
	own, err := w.db.InstructorByID(ctx, in, true)
	noErr(t, err)
	if own.ID != in || len(own.Services) != 1 {
		t.Fatalf("own view = %+v, want the instructor with their offer", own)
	}
	_, err = w.db.CreateBooking(ctx, book(student, in, offer, "2027-01-04", "10:00"))
	wantCode(t, err, market.EINSTRUCTORUNAVAIL)
	if n := w.count(`SELECT count(*) FROM bookings WHERE instructor_id = $1`, in); n != 0 {
		t.Fatalf("%d bookings written for an unverified instructor", n)
	}

	w.setVerified(in, true)
	if !listed() {
		t.Fatal("a verified instructor is not listed")
	}
	if _, err := w.db.InstructorByID(ctx, in, false); err != nil {
		t.Fatalf("public view of a verified instructor: %v", err)
	}
	if _, err := w.db.CreateBooking(ctx, book(student, in, offer, "2027-01-04", "10:00")); err != nil {
		t.Fatalf("booking a verified instructor: %v", err)
	}
}

// Search candidates and name suggestions leave out an unverified
// instructor, even one whose name is searched for exactly.
func TestSearchAndSuggestLeaveOutUnverifiedInstructors(t *testing.T) {
	t.Parallel()
	db, s, _ := seededSearch(t)
	ctx := context.Background()
	pool := storetest.Pool(db)
	u, err := db.CreateUser(ctx, market.NewUser{Email: "zephyrine@example.org", PasswordHash: "x",
		FullName: "Zephyrine Quillfeather", Role: market.RoleInstructor})
	noErr(t, err)
	_, err = pool.Exec(ctx, `UPDATE instructor_profiles SET areas = '{Harlem}', bio = 'Piano teacher' WHERE user_id = $1`, u.ID)
	noErr(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		SELECT $1, id, 5000, '{60}' FROM services WHERE name = 'Piano'`, u.ID)
	noErr(t, err)

	found := func() (inSearch, inSuggest bool) {
		t.Helper()
		noErr(t, s.Reload(ctx))
		res, err := s.Search(ctx, "piano zephyrine quillfeather", 50, time.Now())
		noErr(t, err)
		inSearch = slices.ContainsFunc(res.Items, func(h market.SearchHit) bool { return h.InstructorID == u.ID })
		sug, err := s.Suggest(ctx, "", "zephyr", 8)
		noErr(t, err)
		inSuggest = slices.ContainsFunc(sug, func(g market.Suggestion) bool { return g.Text == "Zephyrine Quillfeather" })
		return inSearch, inSuggest
	}
	if inSearch, inSuggest := found(); inSearch || inSuggest {
		t.Fatalf("unverified instructor found: search %v, suggest %v", inSearch, inSuggest)
	}
	_, err = pool.Exec(ctx, `UPDATE users SET email_verified_at = now() WHERE id = $1`, u.ID)
	noErr(t, err)
	if inSearch, inSuggest := found(); !inSearch || !inSuggest {
		t.Fatalf("verified instructor not found: search %v, suggest %v", inSearch, inSuggest)
	}
}
