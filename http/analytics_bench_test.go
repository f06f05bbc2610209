package http

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// seedAnalyticsVolume writes a year of marketplace activity straight in SQL:
// 50 instructors with an 8-hour window every day, 4 lessons a day each
// (about 73,000 bookings, a fifth cancelled), 200 students and 100,000
// page views.
func seedAnalyticsVolume(tb testing.TB, ts *testServer) {
	tb.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO categories (slug, name) VALUES ('bench', 'Bench')`,
		`INSERT INTO services (category_id, slug, name)
			SELECT c.id, 'bench-' || g, 'Bench service ' || g FROM categories c, generate_series(1, 10) g WHERE c.slug = 'bench'`,
		`INSERT INTO users (email, password_hash, full_name)
			SELECT 'bench-i' || g || '@example.com', 'x', 'Bench Instructor ' || g FROM generate_series(1, 50) g`,
		`INSERT INTO users (email, password_hash, full_name)
			SELECT 'bench-s' || g || '@example.com', 'x', 'Bench Student ' || g FROM generate_series(0, 199) g`,
		`INSERT INTO user_roles (user_id, role) SELECT id, 'instructor' FROM users WHERE email LIKE 'bench-i%'`,
		`INSERT INTO user_roles (user_id, role) SELECT id, 'student' FROM users WHERE email LIKE 'bench-s%'`,
		`INSERT INTO instructor_profiles (user_id, areas)
			SELECT id, ARRAY[(ARRAY['Astoria','Williamsburg','Harlem','SoHo','Park Slope'])[1 + abs(hashtext(id::text)) % 5]]
			FROM users WHERE email LIKE 'bench-i%'`,
		`INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
			SELECT p.user_id, (SELECT id FROM services WHERE slug = 'bench-' || (1 + abs(hashtext(p.user_id::text)) % 10)), 8000, '{60}'
			FROM instructor_profiles p`,
		`INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
			SELECT p.user_id, d::date, '09:00', '17:00' FROM instructor_profiles p,
				generate_series(current_date - 364, current_date + 14, interval '1 day') d`,
		`WITH i AS (SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 AS n FROM instructor_profiles),
		      s AS (SELECT id, substring(email from 'bench-s([0-9]+)@')::int AS n FROM users WHERE email LIKE 'bench-s%'),
		      slots AS (
			SELECT i.user_id AS inst, s.id AS student, d::date AS day, k,
				((d::date + time '09:00' + k * interval '2 hours') AT TIME ZONE 'America/New_York') AS starts
			FROM i, generate_series(current_date - 364, current_date + 14, interval '1 day') d,
				generate_series(0, 3) k, s WHERE s.n = i.n + 50 * k)
		INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date, start_time, end_time,
			duration_minutes, price_cents, status, during, created_at, cancelled_at)
		SELECT student, inst, (SELECT id FROM instructor_services WHERE instructor_id = inst), day,
			time '09:00' + k * interval '2 hours', time '10:00' + k * interval '2 hours', 60, 8000,
			CASE WHEN abs(hashtext(inst::text || day || k)) % 5 = 0 THEN 'cancelled' ELSE 'confirmed' END,
			tstzrange(starts, starts + interval '1 hour', '[)'),
			starts - (1 + abs(hashtext(day || k::text || inst::text)) % 300) * interval '1 hour',
			CASE WHEN abs(hashtext(inst::text || day || k)) % 5 = 0 THEN starts - (abs(hashtext(k::text || inst::text || day)) % 48) * interval '1 hour' END
		FROM slots`,
		`INSERT INTO instructor_page_views (instructor_id, viewed_at)
			SELECT (SELECT user_id FROM instructor_profiles ORDER BY user_id OFFSET g % 50 LIMIT 1),
				now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute'
			FROM generate_series(1, 100000) g`,
		`VACUUM ANALYZE`,
	} {
		if _, err := storetest.Pool(ts.db).Exec(ctx, sql); err != nil {
			tb.Fatalf("seed: %v\n%s", err, sql)
		}
	}
}

// BenchmarkAnalyticsEndpoints measures each analytics endpoint (and the
// admin instructor list) over a full year of seeded activity through the
// HTTP stack, and reports p95 in ms per endpoint. Target: ≤ 100 ms.
//
//	go test -run '^$' -bench BenchmarkAnalyticsEndpoints -benchtime 50x ./http/
func BenchmarkAnalyticsEndpoints(b *testing.B) {
	ts := newTestServer(b)
	seedAnalyticsVolume(b, ts)
	admin, _ := ts.signUp(market.RoleAdmin)
	to := time.Now().In(mustLocB(b, market.AnalyticsZone))
	q := fmt.Sprintf("?from=%s&to=%s", to.AddDate(0, 0, -364).Format(time.DateOnly), to.Format(time.DateOnly))
	paths := []string{"/api/v1/admin/instructors" + q, "/api/v1/admin/bookings?limit=100"}
	for _, a := range ts.srv.analyticsEndpoints() {
		paths = append(paths, "/api/v1/admin/analytics/"+a.name+q)
	}
	for _, p := range paths {
		b.Run(p[len("/api/v1/admin/"):min(len(p), len("/api/v1/admin/")+24)], func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if resp, body := ts.do("GET", p, admin, nil); resp.StatusCode != 200 {
					b.Fatalf("%s: %d %s", p, resp.StatusCode, body)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

func mustLocB(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}
