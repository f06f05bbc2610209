package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// analyticsWorld is a seeded scenario whose expected series are computed in
// Go from the rows it wrote, independently of the SQL under test.
type analyticsWorld struct {
	*schedWorld
	ny       *time.Location
	from, to time.Time // the range asked for
	bookings []seededBooking
	views    []time.Time
	windows  map[string]float64 // lesson date → open hours
}

type seededBooking struct {
	service   string
	area      []string
	starts    time.Time
	minutes   int
	price     int
	created   time.Time
	cancelled *time.Time
}

// nyDay is t's calendar date in New York.
func (w *analyticsWorld) nyDay(t time.Time) string { return t.In(w.ny).Format(time.DateOnly) }

// seedAnalytics writes bookings, views and windows around a range that
// crosses the March 2027 DST change, with creation and cancellation times
// near New York midnight so a UTC bucketing would be caught.
func seedAnalytics(t *testing.T) *analyticsWorld {
	w := &analyticsWorld{schedWorld: newSchedWorld(t), windows: map[string]float64{}}
	var err error
	w.ny, err = time.LoadLocation(market.AnalyticsZone)
	noErr(t, err)
	w.from = time.Date(2027, 3, 12, 0, 0, 0, 0, time.UTC)
	w.to = time.Date(2027, 3, 16, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()

	var cat, guitar string
	noErr(t, storetest.Pool(w.db).QueryRow(ctx, `SELECT category_id FROM services WHERE id = $1`, w.service).Scan(&cat))
	noErr(t, storetest.Pool(w.db).QueryRow(ctx, `INSERT INTO services (category_id, slug, name) VALUES ($1, 'guitar', 'Guitar') RETURNING id`, cat).Scan(&guitar))
	type inst struct {
		id     string
		offers map[string]string // service name → offer id
		areas  []string
	}
	var insts []inst
	for i, areas := range [][]string{{"Astoria"}, {"Williamsburg", "Astoria"}} {
		id, piano := w.instructor(market.DefaultTimezone)
		var g string
		noErr(t, storetest.Pool(w.db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
			VALUES ($1, $2, 9000, '{60}') RETURNING id`, id, guitar).Scan(&g))
		_, err := storetest.Pool(w.db).Exec(ctx, `UPDATE instructor_profiles SET areas = $2 WHERE user_id = $1`, id, areas)
		noErr(t, err)
		insts = append(insts, inst{id: id, offers: map[string]string{"Piano": piano, "Guitar": g}, areas: areas})
		// One window a day, 09:00 to 09:00 + 4+i hours, on every date of the range and a day either side.
		for d := w.from.AddDate(0, 0, -1); !d.After(w.to.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
			date := d.Format(time.DateOnly)
			end := fmt.Sprintf("%02d:00", 13+i)
			_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
				VALUES ($1, $2, '09:00', $3)`, id, date, end)
			noErr(t, err)
			w.windows[date] += float64(4 + i)
		}
	}
	students := []string{w.user(market.RoleStudent), w.user(market.RoleStudent)}

	rng := rand.New(rand.NewPCG(15, 6))
	// Instants from two days before the range to two days after, on the
	// quarter hour, biased to the hours around New York midnight.
	span := w.to.AddDate(0, 0, 5).Sub(w.from)
	instant := func() time.Time {
		t0 := time.Date(2027, 3, 10, 0, 0, 0, 0, w.ny)
		if rng.IntN(2) == 0 {
			day := time.Date(2027, 3, 10+rng.IntN(9), 0, 0, 0, 0, w.ny)
			return day.Add(time.Duration(rng.IntN(9)-4) * 15 * time.Minute)
		}
		return t0.Add(time.Duration(rng.Int64N(int64(span/time.Minute))) * time.Minute)
	}
	for i := range 60 {
		in := insts[i%2]
		svc := []string{"Piano", "Guitar"}[rng.IntN(2)]
		// Distinct, non-overlapping lesson slots: 90 minutes apart from Mar 11.
		starts := time.Date(2027, 3, 11, 8, 0, 0, 0, w.ny).Add(time.Duration(i) * 90 * time.Minute)
		// The lesson's own area, one of its instructor's (Top areas counts it there only).
		b := seededBooking{service: svc, area: []string{in.areas[i%len(in.areas)]}, starts: starts, minutes: 60, price: 6000 + 3000*rng.IntN(2)}
		b.created = instant()
		if b.created.After(starts) {
			b.created = starts.Add(-time.Hour)
		}
		status := "confirmed"
		if rng.IntN(3) == 0 {
			c := b.created.Add(time.Duration(rng.IntN(72*4)) * 15 * time.Minute)
			if c.After(starts) {
				c = starts.Add(-time.Duration(rng.IntN(8)) * time.Hour)
			}
			if c.Before(b.created) {
				c = b.created
			}
			b.cancelled = &c
			status = "cancelled"
		}
		local := starts.In(w.ny)
		_, err := storetest.Pool(w.db).Exec(ctx, `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date,
				start_time, end_time, duration_minutes, price_cents, status, during, created_at, cancelled_at, area)
			VALUES ($1, $2, $3, $4, $5, $6, 60, $7, $8, tstzrange($9, $10, '[)'), $11, $12, $13)`,
			students[i%2], in.id, in.offers[svc], local.Format(time.DateOnly), local.Format("15:04"),
			local.Add(time.Hour).Format("15:04"), b.price, status, starts, starts.Add(time.Hour), b.created, b.cancelled, b.area[0])
		noErr(t, err)
		w.bookings = append(w.bookings, b)
	}
	for range 40 {
		v := instant()
		noErr(t, w.db.RecordInstructorView(ctx, insts[rng.IntN(2)].id))
		_, err := storetest.Pool(w.db).Exec(ctx, `UPDATE instructor_page_views SET viewed_at = $1
			WHERE id = (SELECT max(id) FROM instructor_page_views)`, v)
		noErr(t, err)
		w.views = append(w.views, v)
	}
	return w
}

// dates lists the range's dates.
func (w *analyticsWorld) dates() []string {
	var out []string
	for d := w.from; !d.After(w.to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func (w *analyticsWorld) inRange(t time.Time) bool {
	d := w.nyDay(t)
	return d >= w.from.Format(time.DateOnly) && d <= w.to.Format(time.DateOnly)
}

func TestAnalyticsSeriesEqualTheSeededRows(t *testing.T) {
	t.Parallel()
	w := seedAnalytics(t)
	ctx := context.Background()

	created, cancelled, late, views := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	booked := map[string]float64{}
	type rank struct {
		n   int
		rev int64
	}
	services, areas := map[string]rank{}, map[string]rank{}
	for _, b := range w.bookings {
		if w.inRange(b.created) {
			created[w.nyDay(b.created)]++
			if b.cancelled == nil {
				r := services[b.service]
				services[b.service] = rank{r.n + 1, r.rev + int64(b.price)}
				for _, a := range b.area {
					r := areas[a]
					areas[a] = rank{r.n + 1, r.rev + int64(b.price)}
				}
			}
		}
		if b.cancelled != nil && w.inRange(*b.cancelled) {
			cancelled[w.nyDay(*b.cancelled)]++
			if b.cancelled.After(b.starts.Add(-store.LateCancelWindow)) {
				late[w.nyDay(*b.cancelled)]++
			}
		}
		if b.cancelled == nil {
			booked[w.nyDay(b.starts)] += float64(b.minutes) / 60
		}
	}
	for _, v := range w.views {
		if w.inRange(v) {
			views[w.nyDay(v)]++
		}
	}
	var wantBookings []market.BookingDay
	var wantLate []market.LateCancellationDay
	var wantConv []market.ConversionDay
	var wantUtil []market.UtilisationDay
	total := 0
	for _, d := range w.dates() {
		wantBookings = append(wantBookings, market.BookingDay{Date: d, Created: created[d], Cancelled: cancelled[d]})
		wantLate = append(wantLate, market.LateCancellationDay{Date: d, Cancelled: cancelled[d], Late: late[d]})
		c := market.ConversionDay{Date: d, Views: views[d], Bookings: created[d]}
		if views[d] > 0 {
			r := float64(created[d]) / float64(views[d])
			c.ViewConversion = &r
		}
		wantConv = append(wantConv, c)
		u := market.UtilisationDay{Date: d, OpenHours: w.windows[d], BookedHours: booked[d]}
		if w.windows[d] > 0 {
			r := booked[d] / w.windows[d]
			u.Utilisation = &r
		}
		wantUtil = append(wantUtil, u)
		total += created[d] + cancelled[d]
	}
	if total < 10 || len(late) == 0 {
		t.Fatalf("scenario too thin: %d created+cancelled in range, late days %v", total, late)
	}
	ranked := func(m map[string]rank) []market.RankedCount {
		var out []market.RankedCount
		for name, r := range m {
			out = append(out, market.RankedCount{Name: name, Bookings: r.n, RevenueCents: r.rev})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Bookings != out[j].Bookings {
				return out[i].Bookings > out[j].Bookings
			}
			return out[i].Name < out[j].Name
		})
		return out
	}

	gotBookings, err := w.db.BookingSeries(ctx, w.from, w.to)
	noErr(t, err)
	gotLate, err := w.db.LateCancellationSeries(ctx, w.from, w.to)
	noErr(t, err)
	gotConv, err := w.db.ConversionSeries(ctx, w.from, w.to)
	noErr(t, err)
	gotUtil, err := w.db.UtilisationSeries(ctx, w.from, w.to)
	noErr(t, err)
	gotServices, err := w.db.TopServices(ctx, w.from, w.to, 10)
	noErr(t, err)
	gotAreas, err := w.db.TopAreas(ctx, w.from, w.to, 10)
	noErr(t, err)
	for name, pair := range map[string][2]any{
		"bookings":           {gotBookings, wantBookings},
		"late cancellations": {gotLate, wantLate},
		"conversion":         {gotConv, wantConv},
		"utilisation":        {gotUtil, wantUtil},
		"top services":       {gotServices, ranked(services)},
		"top areas":          {gotAreas, ranked(areas)},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, pair[0], pair[1])
		}
	}
}

func TestSearchAndNotificationSeriesUseTheirTablesOnlyWhenTheyExist(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	from := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 2)
	// This test's own database: drop what later migrations created, to see
	// the series without them.
	for _, tbl := range []string{"search_log", "notifications", "river_job"} {
		_, err := storetest.Pool(w.db).Exec(ctx, "DROP TABLE IF EXISTS "+tbl+" CASCADE")
		noErr(t, err)
	}

	s, ok, err := w.db.SearchSeries(ctx, from, to)
	noErr(t, err)
	n, av, err := w.db.NotificationSeries(ctx, from, to)
	noErr(t, err)
	if ok || av.Notifications || av.Jobs || len(s) != 3 || s[1] != (market.SearchDay{Date: "2027-03-02"}) ||
		len(n) != 3 || n[2] != (market.NotificationDay{Date: "2027-03-03"}) {
		t.Fatalf("without tables: %v %+v %+v %+v", ok, s, av, n)
	}

	// The shapes the search and notification migrations add (only the
	// columns analytics read).
	for _, sql := range []string{
		`CREATE TABLE search_log (id bigserial PRIMARY KEY, searched_at timestamptz NOT NULL, result_count int NOT NULL)`,
		`CREATE TABLE notifications (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL)`,
		`CREATE TABLE river_job (id bigserial PRIMARY KEY, state text NOT NULL, finalized_at timestamptz)`,
		// 2027-03-02 04:30Z is 23:30 on 03-01 in New York.
		`INSERT INTO search_log (searched_at, result_count) VALUES
			('2027-03-02 04:30Z', 0), ('2027-03-02 05:30Z', 3), ('2027-03-02 06:00Z', 0), ('2027-03-03 12:00Z', 1)`,
		`INSERT INTO notifications (created_at) VALUES ('2027-03-01 12:00Z'), ('2027-03-01 13:00Z'), ('2027-03-04 12:00Z')`,
		`INSERT INTO river_job (state, finalized_at) VALUES ('completed', '2027-03-01 12:00Z'),
			('discarded', '2027-03-01 12:00Z'), ('completed', '2027-03-03 12:00Z'), ('retryable', NULL)`,
	} {
		_, err := storetest.Pool(w.db).Exec(ctx, sql)
		noErr(t, err)
	}
	s, ok, err = w.db.SearchSeries(ctx, from, to)
	noErr(t, err)
	wantS := []market.SearchDay{{Date: "2027-03-01", Searches: 1, ZeroResults: 1}, {Date: "2027-03-02", Searches: 2, ZeroResults: 1}, {Date: "2027-03-03", Searches: 1, ZeroResults: 0}}
	if !ok || !reflect.DeepEqual(s, wantS) {
		t.Errorf("searches %v %+v, want %+v", ok, s, wantS)
	}
	n, av, err = w.db.NotificationSeries(ctx, from, to)
	noErr(t, err)
	wantN := []market.NotificationDay{{Date: "2027-03-01", Created: 2, Sent: 1, Failed: 1}, {Date: "2027-03-02", Created: 0, Sent: 0, Failed: 0}, {Date: "2027-03-03", Created: 0, Sent: 1, Failed: 0}}
	if !av.Notifications || !av.Jobs || !reflect.DeepEqual(n, wantN) {
		t.Errorf("notifications %+v %+v, want %+v", av, n, wantN)
	}
	c, err := w.db.ConversionSeries(ctx, from, to)
	noErr(t, err)
	if c[1].Searches != 2 || c[1].SearchConversion == nil || *c[1].SearchConversion != 0 {
		t.Errorf("conversion with searches: %+v", c[1])
	}
}

func TestAnalyticsRangeIsBounded(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Time { v, _ := market.ParseDate(s); return v }
	tests := []struct {
		name     string
		from, to string
		ok       bool
	}{
		{"one day", "2027-01-01", "2027-01-01", true},
		{"a leap year", "2028-01-01", "2028-12-31", true},
		{"over a year", "2027-01-01", "2028-01-02", false},
		{"backwards", "2027-01-02", "2027-01-01", false},
	}
	for _, tt := range tests {
		err := market.ValidateAnalyticsRange(d(tt.from), d(tt.to))
		if (err == nil) != tt.ok || (err != nil && market.ErrorCode(err) != market.EVALIDATION) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
