package seed_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/seed"
	"instainstru/store"
	"instainstru/store/storetest"
)

// seedHash is a MinCost hash of the seed password, so tests stay fast.
func seedHash(t *testing.T) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(seed.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func seedNY(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func seedCount(t *testing.T, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.Pool(db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func seedRun(t *testing.T, db *store.DB, opts seed.Options) seed.Report {
	t.Helper()
	rep, err := seed.Run(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return rep
}

// tableCounts is the row count of every table Seed writes.
func seedTableCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"categories", "services", "users", "user_roles", "instructor_profiles",
		"instructor_services", "availability_windows", "bookings", "events", "topic_seqs"} {
		out[tbl] = seedCount(t, db, "SELECT count(*) FROM "+tbl)
	}
	return out
}

func TestSeedWritesCatalogInstructorsAndSpecAccounts(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	now := time.Date(2030, 3, 4, 10, 7, 31, 0, seedNY(t))
	rep := seedRun(t, db, seed.Options{Now: now, PasswordHash: seedHash(t)})

	if rep.Categories < 10 || rep.Services < 200 || rep.Instructors < 30 || rep.Students < 2 || rep.Admins != 1 || rep.Windows == 0 {
		t.Fatalf("report too small: %+v", rep)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM services`); got != rep.Services {
		t.Errorf("services in db = %d, report says %d", got, rep.Services)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM categories c WHERE EXISTS (SELECT 1 FROM services s WHERE s.category_id = c.id)`); got != rep.Categories {
		t.Errorf("categories with services = %d, report says %d", got, rep.Categories)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM services WHERE description = ''`); got != 0 {
		t.Errorf("%d services without a description", got)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM instructor_profiles`); got != rep.Instructors {
		t.Errorf("instructor profiles = %d, report says %d", got, rep.Instructors)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM availability_windows`); got != rep.Windows || got != rep.WindowsCreated {
		t.Errorf("windows = %d, report says %d (%d created)", got, rep.Windows, rep.WindowsCreated)
	}
	for _, name := range []string{"Piano", "Violin", "Jazz Guitar", "Conversational Spanish", "Mandarin Chinese",
		"SAT Math", "AP Chemistry", "Python for Beginners", "Boxing", "Salsa", "Watercolor", "Pastry"} {
		if seedCount(t, db, `SELECT count(*) FROM services WHERE name = $1`, name) != 1 {
			t.Errorf("catalog lacks %q", name)
		}
	}
	// Every instructor is complete: bio, 1-3 areas, 2-5 offers at sane rates and lengths.
	if bad := seedCount(t, db, `SELECT count(*) FROM instructor_profiles p WHERE p.bio = '' OR p.years_experience < 1
		OR cardinality(p.areas) NOT BETWEEN 1 AND 3
		OR (SELECT count(*) FROM instructor_services s WHERE s.instructor_id = p.user_id AND s.is_active) NOT BETWEEN 2 AND 5`); bad != 0 {
		t.Errorf("%d instructors with an incomplete profile", bad)
	}
	if bad := seedCount(t, db, `SELECT count(*) FROM instructor_services WHERE hourly_rate_cents NOT BETWEEN 4000 AND 15000
		OR NOT (durations <@ '{30,45,60,90}'::int[])`); bad != 0 {
		t.Errorf("%d offers with a rate or duration outside the brief", bad)
	}

	tests := []struct {
		email, name, role string
		services          []string // offered services that must be present
	}{
		{"sarah.chen@example.com", "Sarah Chen", market.RoleInstructor, []string{"Piano", "Music Theory"}},
		{"michael.rodriguez@example.com", "Michael Rodriguez", market.RoleInstructor, []string{"Conversational Spanish", "Acoustic Guitar"}},
		{"john.smith@example.com", "John Smith", market.RoleStudent, nil},
		{"emma.johnson@example.com", "Emma Johnson", market.RoleStudent, nil},
		{"admin@example.com", "Site Admin", market.RoleAdmin, nil},
	}
	for _, tc := range tests {
		t.Run(tc.email, func(t *testing.T) {
			u, hash, err := db.UserByEmail(ctx, tc.email)
			if err != nil {
				t.Fatal(err)
			}
			if u.FullName != tc.name || !slices.Equal(u.Roles, []string{tc.role}) {
				t.Errorf("got %q roles %v, want %q [%s]", u.FullName, u.Roles, tc.name, tc.role)
			}
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(seed.Password)); err != nil {
				t.Errorf("password does not verify: %v", err)
			}
			// Unverified instructors are neither listed nor bookable.
			if !u.EmailVerified {
				t.Errorf("%s is not verified", tc.email)
			}
			for _, s := range tc.services {
				if seedCount(t, db, `SELECT count(*) FROM instructor_services o JOIN services s ON s.id = o.service_id
					WHERE o.instructor_id = $1 AND s.name = $2 AND o.is_active`, u.ID, s) != 1 {
					t.Errorf("%s does not offer %s", tc.email, s)
				}
			}
			if tc.role == market.RoleInstructor && seedCount(t, db, `SELECT count(*) FROM availability_windows WHERE instructor_id = $1`, u.ID) == 0 {
				t.Errorf("%s has no availability", tc.email)
			}
		})
	}
	out := rep.String()
	for _, want := range []string{"sarah.chen@example.com", "john.smith@example.com", "admin@example.com", seed.Password,
		fmt.Sprintf("%d services", rep.Services)} {
		if !strings.Contains(out, want) {
			t.Errorf("report text lacks %q:\n%s", want, out)
		}
	}
}

func TestSeedTwiceChangesNothingAndLeavesBookingsAlone(t *testing.T) {
	db := storetest.NewDB(t)
	loc := seedNY(t)
	opts := seed.Options{Now: time.Date(2030, 3, 4, 10, 7, 31, 0, loc), PasswordHash: seedHash(t)}
	first := seedRun(t, db, opts)
	bookingID := bookSeededLesson(t, db, loc)
	before := seedTableCounts(t, db)

	second := seedRun(t, db, opts)

	if second.UsersCreated != 0 || second.OffersCreated != 0 || second.WindowsCreated != 0 {
		t.Errorf("rerun created rows: %+v", second)
	}
	first.UsersCreated, first.OffersCreated, first.WindowsCreated = 0, 0, 0
	if first != second {
		t.Errorf("reports differ:\nfirst  %+v\nsecond %+v", first, second)
	}
	if after := seedTableCounts(t, db); !maps.Equal(before, after) {
		t.Errorf("row counts changed:\nbefore %v\nafter  %v", before, after)
	}
	if seedCount(t, db, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, bookingID) != 1 {
		t.Error("rerun touched the booking")
	}
}

func TestSeedRerunLaterOnlyFillsNewDaysAndKeepsUserChanges(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	loc := seedNY(t)
	hash := seedHash(t)
	now := time.Date(2030, 3, 4, 10, 7, 31, 0, loc)
	seedRun(t, db, seed.Options{Now: now, PasswordHash: hash})

	// Sarah edits her bio, removes an offer and clears a day; John changes his password.
	sarah, _, err := db.UserByEmail(ctx, "sarah.chen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	seedMust(t, seedExec(db, `UPDATE instructor_profiles SET bio = 'my own words' WHERE user_id = $1`, sarah.ID))
	seedMust(t, seedExec(db, `UPDATE instructor_services SET is_active = false WHERE instructor_id = $1
		AND service_id = (SELECT id FROM services WHERE slug = 'music-theory')`, sarah.ID))
	var cleared string
	seedMust(t, storetest.Pool(db).QueryRow(ctx, `DELETE FROM availability_windows WHERE instructor_id = $1
		AND date = (SELECT max(date) FROM availability_windows WHERE instructor_id = $1) RETURNING date::text`, sarah.ID).Scan(&cleared))
	other, _ := bcrypt.GenerateFromPassword([]byte("another-password"), bcrypt.MinCost)
	seedMust(t, seedExec(db, `UPDATE users SET password_hash = $1 WHERE email = 'john.smith@example.com'`, string(other)))
	windowsBefore := seedCount(t, db, `SELECT count(*) FROM availability_windows`)

	rep := seedRun(t, db, seed.Options{Now: now.AddDate(0, 0, 7), PasswordHash: hash})

	if rep.WindowsCreated == 0 {
		t.Error("a week later the rerun added no windows for the new days")
	}
	if got := seedCount(t, db, `SELECT count(*) FROM availability_windows`); got != windowsBefore+rep.WindowsCreated {
		t.Errorf("windows = %d, want %d + %d created", got, windowsBefore, rep.WindowsCreated)
	}
	// Days that already had windows were not touched; only days past the old horizon (or cleared) got new ones.
	oldLast := now.AddDate(0, 0, seed.HorizonDays-1).Format(time.DateOnly)
	if n := seedCount(t, db, `SELECT count(*) FROM (SELECT instructor_id, date FROM availability_windows
		WHERE date <= $1::date AND date <> $2::date GROUP BY 1, 2 HAVING max(created_at) > min(created_at)) d`, oldLast, cleared); n != 0 {
		t.Errorf("%d old days got extra windows", n)
	}
	if seedCount(t, db, `SELECT count(*) FROM instructor_profiles WHERE user_id = $1 AND bio = 'my own words'`, sarah.ID) != 1 {
		t.Error("rerun overwrote the instructor's bio")
	}
	if seedCount(t, db, `SELECT count(*) FROM instructor_services o JOIN services s ON s.id = o.service_id
		WHERE o.instructor_id = $1 AND s.slug = 'music-theory' AND o.is_active`, sarah.ID) != 0 {
		t.Error("rerun re-added the offer the instructor removed")
	}
	_, johnHash, err := db.UserByEmail(ctx, "john.smith@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(johnHash), []byte("another-password")) != nil {
		t.Error("rerun reset an existing user's password")
	}
}

func TestSeedWindowsAreAlignedAndInsideTheNextFourWeeks(t *testing.T) {
	loc := seedNY(t)
	tests := []struct {
		name string
		now  time.Time // zero: Seed uses time.Now()
	}{
		{"mid-morning, spring-forward within the horizon", time.Date(2030, 3, 4, 10, 7, 31, 0, loc)},
		{"late evening, fall-back within the horizon", time.Date(2030, 10, 27, 21, 50, 0, 0, loc)},
		{"just before midnight", time.Date(2030, 6, 14, 23, 59, 59, 0, loc)},
		{"default now", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := storetest.NewDB(t)
			lower := time.Now()
			rep := seedRun(t, db, seed.Options{Now: tc.now, PasswordHash: seedHash(t)})
			now := tc.now
			if now.IsZero() {
				now = lower
			}
			checkWindows(t, db, now, rep)
		})
	}
}

// checkWindows asserts every window is 15-minute aligned, starts no earlier
// than now, ends within four calendar weeks of now in the instructor's zone,
// does not overlap its day's other windows, and that the schedules look like
// a real week (mornings, evenings and weekends all present).
func checkWindows(t *testing.T, db *store.DB, now time.Time, rep seed.Report) {
	t.Helper()
	rows, err := storetest.Pool(db).Query(context.Background(), `SELECT w.instructor_id::text, p.timezone, w.date::text,
			(extract(epoch FROM w.start_time) / 60)::int, (extract(epoch FROM w.end_time) / 60)::int
		FROM availability_windows w JOIN instructor_profiles p ON p.user_id = w.instructor_id
		ORDER BY 1, 3, 4`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, mornings, evenings, weekends int
	instructors := map[string]bool{}
	var prevKey string
	var prevEnd int
	for rows.Next() {
		var id, tz, date string
		var start, end int
		if err := rows.Scan(&id, &tz, &date, &start, &end); err != nil {
			t.Fatal(err)
		}
		n++
		instructors[id] = true
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		day, err := market.ParseDate(date)
		if err != nil {
			t.Fatal(err)
		}
		if start%15 != 0 || end%15 != 0 || start >= end {
			t.Errorf("%s %s: window %d-%d not aligned or empty", id, date, start, end)
		}
		from, err1 := market.LocalInstant(day, market.Clock(start), loc)
		to, err2 := market.LocalInstant(day, market.Clock(end), loc)
		if err1 != nil || err2 != nil {
			t.Errorf("%s %s: window %d-%d does not exist in %s", id, date, start, end, tz)
			continue
		}
		if from.Before(now) || to.After(now.In(loc).AddDate(0, 0, 28)) {
			t.Errorf("%s %s %s-%s outside [%s, +4 weeks]", id, date, market.Clock(start), market.Clock(end), now)
		}
		if key := id + date; key == prevKey && start < prevEnd {
			t.Errorf("%s %s: windows overlap", id, date)
		}
		prevKey, prevEnd = id+date, end
		if start < 12*60 {
			mornings++
		}
		if end > 18*60 {
			evenings++
		}
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekends++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != rep.Windows {
		t.Errorf("%d windows in db, report says %d", n, rep.Windows)
	}
	if len(instructors) != rep.Instructors {
		t.Errorf("%d of %d instructors have windows", len(instructors), rep.Instructors)
	}
	if mornings == 0 || evenings == 0 || weekends == 0 {
		t.Errorf("schedules lack variety: %d morning, %d evening, %d weekend windows", mornings, evenings, weekends)
	}
}

func TestSeedResetDeletesSeededDataAndReseeds(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	loc := seedNY(t)
	hash := seedHash(t)
	opts := seed.Options{Now: time.Date(2030, 3, 4, 10, 7, 31, 0, loc), PasswordHash: hash}
	fresh := seedRun(t, db, opts)
	freshCounts := seedTableCounts(t, db)

	bookSeededLesson(t, db, loc)
	seedMust(t, seedExec(db, `INSERT INTO categories (slug, name) VALUES ('made-up', 'Made up')`))
	outsider, err := db.CreateUser(ctx, market.NewUser{Email: "someone@elsewhere.org", PasswordHash: hash, FullName: "Outsider", Role: market.RoleStudent})
	if err != nil {
		t.Fatal(err)
	}
	var oldSarah string
	seedMust(t, storetest.Pool(db).QueryRow(ctx, `SELECT id FROM users WHERE email = 'sarah.chen@example.com'`).Scan(&oldSarah))

	opts.Reset = true
	opts.Env = "development"
	rep := seedRun(t, db, opts)

	if !rep.Reset || !strings.Contains(rep.String(), "reset") {
		t.Errorf("report does not say it reset: %+v", rep)
	}
	rep.Reset = false
	if rep != fresh {
		t.Errorf("reset reseed differs from a fresh seed:\nfresh %+v\nreset %+v", fresh, rep)
	}
	after := seedTableCounts(t, db)
	after["users"]--      // the outsider survives
	after["user_roles"]-- // with their role
	if !maps.Equal(freshCounts, after) {
		t.Errorf("row counts after reset differ from a fresh seed:\nfresh %v\nreset %v", freshCounts, after)
	}
	if seedCount(t, db, `SELECT count(*) FROM users WHERE id = $1`, oldSarah) != 0 {
		t.Error("seeded users were not recreated")
	}
	if seedCount(t, db, `SELECT count(*) FROM users WHERE id = $1`, outsider.ID) != 1 {
		t.Error("reset deleted a user outside the seed domain")
	}
	if seedCount(t, db, `SELECT count(*) FROM categories WHERE slug = 'made-up'`) != 0 {
		t.Error("reset kept a category that is not seeded")
	}
	if got := seedCount(t, db, `SELECT count(*) FROM topic_seqs WHERE seq <> 1`); got != 0 {
		t.Errorf("%d topics did not restart at seq 1", got)
	}
}

func TestSeedAnnouncesNewWindowsInTheOutbox(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	opts := seed.Options{Now: time.Date(2030, 3, 4, 10, 7, 31, 0, seedNY(t)), PasswordHash: seedHash(t)}
	rep := seedRun(t, db, opts)
	sarah, _, err := db.UserByEmail(ctx, "sarah.chen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	topic := market.AvailabilityTopic(sarah.ID)
	evs, err := db.EventsAfter(ctx, topic, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != market.EventAvailabilityChanged || evs[0].Seq != 1 {
		t.Fatalf("events of %s = %+v, want one availability.changed at seq 1", topic, evs)
	}
	if got := seedCount(t, db, `SELECT count(*) FROM events WHERE type = $1`, market.EventAvailabilityChanged); got != rep.Instructors {
		t.Errorf("%d availability events, want one per instructor (%d)", got, rep.Instructors)
	}
	dates := seedCount(t, db, `SELECT count(DISTINCT date) FROM availability_windows WHERE instructor_id = $1`, sarah.ID)
	if got := strings.Count(string(evs[0].Data), `"date"`); got != dates {
		t.Errorf("event lists %d days, Sarah has windows on %d", got, dates)
	}

	seedRun(t, db, opts)
	if seq, err := db.TopicSeq(ctx, topic); err != nil || seq != 1 {
		t.Errorf("rerun with nothing new announced something: seq %d, %v", seq, err)
	}
}

func TestSeedResetIsRefusedInProduction(t *testing.T) {
	tests := []struct {
		env       string
		reset     bool
		wantError string
	}{
		{"production", true, market.EFORBIDDEN},
		{" Production ", true, market.EFORBIDDEN},
		{"production", false, ""},
		{"development", true, ""},
		{"", true, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("env=%q reset=%v", tc.env, tc.reset), func(t *testing.T) {
			t.Parallel()
			db := storetest.NewDB(t)
			_, err := seed.Run(context.Background(), db, seed.Options{Reset: tc.reset, Env: tc.env,
				Now: time.Date(2030, 3, 4, 10, 0, 0, 0, seedNY(t)), PasswordHash: seedHash(t)})
			if got := market.ErrorCode(err); got != tc.wantError {
				t.Fatalf("error %v (code %q), want code %q", err, got, tc.wantError)
			}
			wantRows := 1
			if tc.wantError != "" {
				wantRows = 0
				if !strings.Contains(market.ErrorMessage(err), "production") {
					t.Errorf("message %q does not say why", market.ErrorMessage(err))
				}
			}
			if got := seedCount(t, db, `SELECT count(*) FROM users WHERE email = 'sarah.chen@example.com'`); got != wantRows {
				t.Errorf("sarah rows = %d, want %d", got, wantRows)
			}
		})
	}
}

func TestSeedHashesWithDefaultCostWhenNoHashIsGiven(t *testing.T) {
	db := storetest.NewDB(t)
	seedRun(t, db, seed.Options{})
	_, hash, err := db.UserByEmail(context.Background(), "emma.johnson@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("cost %d (%v), want %d", cost, err, bcrypt.DefaultCost)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(seed.Password)); err != nil {
		t.Errorf("password does not verify: %v", err)
	}
	// One hash is shared by every account: bcrypt ran once, not per user.
	if n := seedCount(t, db, `SELECT count(DISTINCT password_hash) FROM users`); n != 1 {
		t.Errorf("%d distinct hashes, want 1", n)
	}
}

// bookSeededLesson books John into the first hour of Sarah's first window.
func bookSeededLesson(t *testing.T, db *store.DB, loc *time.Location) string {
	t.Helper()
	ctx := context.Background()
	var sarah, john, offer, date string
	var start int
	seedMust(t, storetest.Pool(db).QueryRow(ctx, `SELECT u.id, o.id, w.date::text, (extract(epoch FROM w.start_time) / 60)::int
		FROM users u JOIN instructor_services o ON o.instructor_id = u.id
		JOIN availability_windows w ON w.instructor_id = u.id
		WHERE u.email = 'sarah.chen@example.com' AND w.end_time - w.start_time >= interval '1 hour'
		ORDER BY w.date, w.start_time, o.id LIMIT 1`).Scan(&sarah, &offer, &date, &start))
	seedMust(t, storetest.Pool(db).QueryRow(ctx, `SELECT id FROM users WHERE email = 'john.smith@example.com'`).Scan(&john))
	day, err := market.ParseDate(date)
	seedMust(t, err)
	from, err := market.LocalInstant(day, market.Clock(start), loc)
	seedMust(t, err)
	var id string
	seedMust(t, storetest.Pool(db).QueryRow(ctx, `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date,
		start_time, end_time, duration_minutes, price_cents, during)
		VALUES ($1, $2, $3, $4::date, $5::time, $6::time, 60, 9500, tstzrange($7, $8, '[)')) RETURNING id`,
		john, sarah, offer, date, market.Clock(start).String(), market.Clock(start+60).String(), from, from.Add(time.Hour)).Scan(&id))
	return id
}

func seedExec(db *store.DB, sql string, args ...any) error {
	_, err := storetest.Pool(db).Exec(context.Background(), sql, args...)
	return err
}

func seedMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
