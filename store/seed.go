package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
)

// SeedHorizonDays is how many local days, today included, Seed fills with
// availability for each seeded instructor.
const SeedHorizonDays = 28

// SeedOptions configures Seed.
type SeedOptions struct {
	// Reset deletes seeded domain data before seeding (see Seed).
	Reset bool
	// Now anchors the availability horizon; zero means time.Now().
	Now time.Time
	// PasswordHash is an optional precomputed bcrypt hash of SeedPassword,
	// so tests can use bcrypt.MinCost instead of paying DefaultCost.
	PasswordHash string
	// Env is APP_ENV; Reset is refused when it is "production".
	Env string
}

// SeedReport says what the seeded data looks like after Seed. The totals
// (Categories … Windows) count seeded rows present after the run, so two
// runs with the same options report the same totals; the *Created fields
// say what this run added.
type SeedReport struct {
	Categories  int
	Services    int
	Instructors int // seeded instructor accounts that hold an instructor profile
	Students    int
	Admins      int
	Support     int
	Offers      int // active offered services of seeded instructors
	Windows     int // seeded instructors' windows within the horizon

	UsersCreated   int
	OffersCreated  int
	WindowsCreated int
	Reset          bool
}

// String is the human summary printed by `hubd seed`.
func (r SeedReport) String() string {
	var b strings.Builder
	if r.Reset {
		b.WriteString("reset: deleted seeded data first\n")
	}
	fmt.Fprintf(&b, "catalog: %d categories, %d services\n", r.Categories, r.Services)
	fmt.Fprintf(&b, "accounts: instructors %d, students %d, admins %d (%d created now)\n",
		r.Instructors, r.Students, r.Admins, r.UsersCreated)
	fmt.Fprintf(&b, "offers: %d (%d created now)\n", r.Offers, r.OffersCreated)
	fmt.Fprintf(&b, "availability: %d windows over the next %d days (%d created now)\n",
		r.Windows, SeedHorizonDays, r.WindowsCreated)
	fmt.Fprintf(&b, "demo accounts, all with password %s:\n", SeedPassword)
	fmt.Fprintf(&b, "  instructors: %s, %s (and %d more %s instructors)\n",
		seedInstructors[0].Email, seedInstructors[1].Email, len(seedInstructors)-2, SeedEmailDomain)
	fmt.Fprintf(&b, "  students:    %s, %s (and %d more)\n",
		seedStudents[0].Email, seedStudents[1].Email, len(seedStudents)-2)
	fmt.Fprintf(&b, "  admin:       %s\n", seedAdmins[0].Email)
	fmt.Fprintf(&b, "  support:     %s (read-only)", seedSupport[0].Email)
	return b.String()
}

// Seed writes the demo catalog, accounts, offered services and the coming
// weeks of availability (SPEC §8), in one transaction.
//
// It is idempotent: categories and services are upserted by slug; users are
// matched by email and existing ones are left alone (password included);
// a profile is filled only while its bio is still empty; an offer is added
// only if the instructor never had one for that service (so one the
// instructor removed stays removed); windows are added only on dates that
// have none yet for that instructor, so a rerun never duplicates windows
// and never touches bookings. New windows are announced with one
// availability.changed event per instructor, like any other change.
//
// With Reset it first deletes the seeded domain data: every booking,
// idempotency key and offered service (they hang off the catalog being
// recreated), the catalog, users under SeedEmailDomain with their windows,
// profiles and refresh tokens, and the event log with its topic counters.
// Reset is refused with EFORBIDDEN when Env is production.
func (db *DB) Seed(ctx context.Context, opts SeedOptions) (SeedReport, error) {
	if opts.Reset && strings.EqualFold(strings.TrimSpace(opts.Env), "production") {
		return SeedReport{}, market.Errorf(market.EFORBIDDEN,
			"refusing to reset seed data in production (APP_ENV=production): it would delete bookings and accounts")
	}
	if err := validateSeedData(); err != nil {
		return SeedReport{}, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	hash := opts.PasswordHash
	if hash == "" {
		h, err := bcrypt.GenerateFromPassword([]byte(SeedPassword), bcrypt.DefaultCost)
		if err != nil {
			return SeedReport{}, fmt.Errorf("seed: hash password: %w", err)
		}
		hash = string(h)
	}

	var rep SeedReport
	err := db.transact(ctx, func(tx pgx.Tx) error {
		rep = SeedReport{Reset: opts.Reset}
		if opts.Reset {
			if err := resetSeed(ctx, tx); err != nil {
				return err
			}
		}
		serviceIDs, err := seedCatalog(ctx, tx, &rep)
		if err != nil {
			return err
		}
		for _, a := range seedStudents {
			if ok, err := seedAccountTx(ctx, tx, a, market.RoleStudent, hash, &rep); err != nil {
				return err
			} else if ok {
				rep.Students++
			}
		}
		for _, a := range seedAdmins {
			if ok, err := seedAccountTx(ctx, tx, a, market.RoleAdmin, hash, &rep); err != nil {
				return err
			} else if ok {
				rep.Admins++
			}
		}
		for _, a := range seedSupport {
			if ok, err := seedAccountTx(ctx, tx, a, market.RoleSupport, hash, &rep); err != nil {
				return err
			} else if ok {
				rep.Support++
			}
		}
		var events []market.NewEvent
		for _, in := range seedInstructors {
			ev, err := seedInstructorTx(ctx, tx, in, serviceIDs, hash, now, &rep)
			if err != nil {
				return fmt.Errorf("instructor %s: %w", in.Email, err)
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		// Last in the transaction: the topic row locks are held until commit.
		if _, err := appendEvents(ctx, tx, events); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	return rep, nil
}

// resetSeed deletes seeded domain data in foreign-key order.
func resetSeed(ctx context.Context, tx pgx.Tx) error {
	const seeded = `(SELECT id FROM users WHERE email LIKE '%` + SeedEmailDomain + `')`
	stmts := []string{
		`DELETE FROM bookings`,
		`DELETE FROM idempotency_keys`,
		`DELETE FROM instructor_services`,
		`DELETE FROM availability_windows WHERE instructor_id IN ` + seeded,
		`DELETE FROM refresh_tokens WHERE user_id IN ` + seeded,
		`DELETE FROM instructor_profiles WHERE user_id IN ` + seeded,
		`DELETE FROM user_roles WHERE user_id IN ` + seeded,
		`DELETE FROM users WHERE id IN ` + seeded,
		`DELETE FROM services`,
		`DELETE FROM categories`,
		`DELETE FROM events`,
		`DELETE FROM topic_seqs`,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("reset (%s): %w", s, err)
		}
	}
	return nil
}

// seedCatalog upserts categories and services by slug and returns service
// ids by slug. Rows already equal to the seed are not rewritten.
func seedCatalog(ctx context.Context, tx pgx.Tx, rep *SeedReport) (map[string]string, error) {
	ids := make(map[string]string)
	for i, c := range seedCategories {
		var catID string
		err := tx.QueryRow(ctx, `
			INSERT INTO categories (slug, name, description, sort_order) VALUES ($1, $2, $3, $4)
			ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
				sort_order = EXCLUDED.sort_order
			RETURNING id`, c.Slug, c.Name, c.Description, (i+1)*10).Scan(&catID)
		if err != nil {
			return nil, fmt.Errorf("upsert category %s: %w", c.Slug, err)
		}
		rep.Categories++
		slugs, names, descs := make([]string, len(c.Services)), make([]string, len(c.Services)), make([]string, len(c.Services))
		for j, s := range c.Services {
			names[j], descs[j], _ = strings.Cut(s, "|")
			slugs[j] = slugify(names[j])
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO services (category_id, slug, name, description)
			SELECT $1, t.slug, t.name, t.description FROM unnest($2::text[], $3::text[], $4::text[]) AS t(slug, name, description)
			ON CONFLICT (slug) DO UPDATE SET category_id = EXCLUDED.category_id, name = EXCLUDED.name,
				description = EXCLUDED.description
			WHERE (services.category_id, services.name, services.description)
				IS DISTINCT FROM (EXCLUDED.category_id, EXCLUDED.name, EXCLUDED.description)`,
			catID, slugs, names, descs)
		if err != nil {
			return nil, fmt.Errorf("upsert services of %s: %w", c.Slug, err)
		}
		rows, err := tx.Query(ctx, `SELECT slug, id FROM services WHERE slug = ANY($1)`, slugs)
		if err != nil {
			return nil, fmt.Errorf("read services of %s: %w", c.Slug, err)
		}
		var slug, id string
		if _, err := pgx.ForEachRow(rows, []any{&slug, &id}, func() error { ids[slug] = id; return nil }); err != nil {
			return nil, fmt.Errorf("read services of %s: %w", c.Slug, err)
		}
	}
	rep.Services = len(ids)
	return ids, nil
}

// ensureUserTx returns the id of the user with email, creating it with role
// if absent, and whether the (live) user holds role.
func ensureUserTx(ctx context.Context, tx pgx.Tx, a seedAccount, role, hash string, rep *SeedReport) (id string, hasRole bool, err error) {
	var live bool
	err = tx.QueryRow(ctx, `SELECT id, deleted_at IS NULL,
			EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = $2)
		FROM users WHERE email = $1`, a.Email, role).Scan(&id, &live, &hasRole)
	if err == nil {
		return id, live && hasRole, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("look up %s: %w", a.Email, err)
	}
	id, err = createUserTx(ctx, tx, market.NewUser{Email: a.Email, PasswordHash: hash, FullName: a.Name, Role: role, EmailVerified: true})
	if err != nil {
		return "", false, fmt.Errorf("create %s: %w", a.Email, err)
	}
	rep.UsersCreated++
	return id, true, nil
}

// seedAccountTx ensures a student or admin account; ok says it holds role.
func seedAccountTx(ctx context.Context, tx pgx.Tx, a seedAccount, role, hash string, rep *SeedReport) (bool, error) {
	_, ok, err := ensureUserTx(ctx, tx, a, role, hash, rep)
	return ok, err
}

// seedInstructorTx ensures the instructor's account, profile, offers and
// windows, and returns the availability event for new windows (nil if none).
// An existing account that is not an instructor is left alone.
func seedInstructorTx(ctx context.Context, tx pgx.Tx, in seedInstructor, serviceIDs map[string]string,
	hash string, now time.Time, rep *SeedReport) (*market.NewEvent, error) {
	id, ok, err := ensureUserTx(ctx, tx, seedAccount{in.Email, in.Name}, market.RoleInstructor, hash, rep)
	if err != nil || !ok {
		return nil, err
	}
	// Locking the profile row serialises this with other writers of the
	// instructor's schedule.
	var tz string
	err = tx.QueryRow(ctx, `SELECT timezone FROM instructor_profiles WHERE user_id = $1 FOR UPDATE`, id).Scan(&tz)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock profile: %w", err)
	}
	rep.Instructors++
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w", tz, err)
	}
	areas, err := resolveAreas(ctx, tx, in.Areas)
	if err != nil {
		return nil, fmt.Errorf("seed data: instructor %s: %w", in.Email, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE instructor_profiles SET bio = $2, years_experience = $3, areas = $4, updated_at = now()
		WHERE user_id = $1 AND bio = ''`, id, in.Bio, in.Years, areas); err != nil {
		return nil, fmt.Errorf("fill profile: %w", err)
	}
	for _, o := range in.Offers {
		tag, err := tx.Exec(ctx, `
			INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
			SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM instructor_services WHERE instructor_id = $1 AND service_id = $2)`,
			id, serviceIDs[o.Service], o.RateCents, o.Durations)
		if err != nil {
			return nil, fmt.Errorf("offer %s: %w", o.Service, err)
		}
		rep.OffersCreated += int(tag.RowsAffected())
	}
	var offers int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM instructor_services WHERE instructor_id = $1 AND is_active`, id).Scan(&offers); err != nil {
		return nil, fmt.Errorf("count offers: %w", err)
	}
	rep.Offers += offers
	return seedWindowsTx(ctx, tx, id, in, now.In(loc), rep)
}

// seedWindowsTx adds the pattern's windows on horizon dates that have no
// window yet and returns the event announcing them.
func seedWindowsTx(ctx context.Context, tx pgx.Tx, id string, in seedInstructor, localNow time.Time, rep *SeedReport) (*market.NewEvent, error) {
	y, m, d := localNow.Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 0, SeedHorizonDays-1)
	rows, err := tx.Query(ctx, `SELECT DISTINCT date::text FROM availability_windows
		WHERE instructor_id = $1 AND date BETWEEN $2::date AND $3::date`,
		id, first.Format(time.DateOnly), last.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("read windowed dates: %w", err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read windowed dates: %w", err)
	}
	has := make(map[string]bool, len(taken))
	for _, t := range taken {
		has[t] = true
	}
	nowClock := market.Clock(localNow.Hour()*60 + localNow.Minute())
	if localNow.Second() > 0 || localNow.Nanosecond() > 0 {
		nowClock++
	}
	var dates, starts, ends []string
	newDays := map[string][][2]market.Clock{}
	var order []string
	for i := range SeedHorizonDays {
		day := first.AddDate(0, 0, i)
		date := day.Format(time.DateOnly)
		if has[date] {
			continue
		}
		notBefore := market.Clock(0)
		if i == 0 {
			notBefore = nowClock
		}
		ws := seedDayWindows(in, day, notBefore)
		if len(ws) == 0 {
			continue
		}
		newDays[date] = ws
		order = append(order, date)
		for _, w := range ws {
			dates, starts, ends = append(dates, date), append(starts, w[0].String()), append(ends, w[1].String())
		}
	}
	if len(dates) > 0 {
		tag, err := tx.Exec(ctx, `
			INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
			SELECT $1, t.d::date, t.s::time, t.e::time FROM unnest($2::text[], $3::text[], $4::text[]) AS t(d, s, e)`,
			id, dates, starts, ends)
		if err != nil {
			return nil, fmt.Errorf("insert windows: %w", err)
		}
		rep.WindowsCreated += int(tag.RowsAffected())
	}
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM availability_windows
		WHERE instructor_id = $1 AND date BETWEEN $2::date AND $3::date`,
		id, first.Format(time.DateOnly), last.Format(time.DateOnly)).Scan(&total); err != nil {
		return nil, fmt.Errorf("count windows: %w", err)
	}
	rep.Windows += total
	if len(order) == 0 {
		return nil, nil
	}
	return availabilityEvent(ctx, tx, id, order, newDays)
}

// availabilityEvent builds availability.changed for the new days: open time
// is windows minus confirmed bookings, as everywhere else (a booking can
// outlive a deleted window, so a "new" day is not assumed empty).
func availabilityEvent(ctx context.Context, tx pgx.Tx, id string, order []string, windows map[string][][2]market.Clock) (*market.NewEvent, error) {
	rows, err := tx.Query(ctx, `SELECT date::text, (extract(epoch FROM start_time) / 60)::int,
			(extract(epoch FROM end_time) / 60)::int
		FROM bookings WHERE instructor_id = $1 AND status = 'confirmed' AND date = ANY($2::date[])
		ORDER BY date, start_time`, id, order)
	if err != nil {
		return nil, fmt.Errorf("read bookings: %w", err)
	}
	busy := map[string][][2]market.Clock{}
	var date string
	var s, e int
	if _, err := pgx.ForEachRow(rows, []any{&date, &s, &e}, func() error {
		busy[date] = append(busy[date], [2]market.Clock{market.Clock(s), market.Clock(e)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read bookings: %w", err)
	}
	data := market.AvailabilityChanged{InstructorID: id, Days: make([]market.OpenDay, 0, len(order))}
	for _, d := range order {
		open := []market.Interval{}
		for _, iv := range market.Subtract(windows[d], busy[d]) {
			open = append(open, market.Interval{Start: iv[0].String(), End: iv[1].String()})
		}
		data.Days = append(data.Days, market.OpenDay{Date: d, Open: open})
	}
	return &market.NewEvent{Topic: market.AvailabilityTopic(id), Type: market.EventAvailabilityChanged, Data: data}, nil
}

// seedDayWindows is the instructor's windows on a calendar day (a UTC
// midnight standing for a local date): the weekly pattern shifted by a
// per-instructor 0-45 minutes, with about one day in nine off. Windows
// ending at or before notBefore are dropped and one that spans it starts at
// the next quarter hour, so today's windows never lie in the past. The
// result depends only on the instructor and the date, so reruns agree.
func seedDayWindows(in seedInstructor, day time.Time, notBefore market.Clock) [][2]market.Clock {
	h := fnv.New64a()
	h.Write([]byte(in.Email))
	person := h.Sum64()
	h.Write([]byte(day.Format(time.DateOnly)))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x1a57a1257))
	if rng.IntN(9) == 0 {
		return nil
	}
	shift := market.Clock(person%4) * market.SlotMinutes
	if r := notBefore % market.SlotMinutes; r != 0 {
		notBefore += market.SlotMinutes - r
	}
	var out [][2]market.Clock
	for _, w := range seedWeekPatterns[in.Pattern%len(seedWeekPatterns)][day.Weekday()] {
		start, end := market.Clock(w[0])+shift, market.Clock(w[1])+shift
		if start < notBefore {
			start = notBefore
		}
		if start < end {
			out = append(out, [2]market.Clock{start, end})
		}
	}
	return out
}

// validateSeedData catches mistakes in seeddata.go before anything is
// written: duplicate slugs would silently merge services, and an offer of
// an unknown service or bad price would fail deep inside the transaction.
func validateSeedData() error {
	slugs := map[string]bool{}
	for _, c := range seedCategories {
		for _, s := range c.Services {
			name, desc, ok := strings.Cut(s, "|")
			slug := slugify(name)
			if !ok || name == "" || desc == "" || slug == "" {
				return fmt.Errorf("seed data: service %q must be \"Name|description\"", s)
			}
			if slugs[slug] {
				return fmt.Errorf("seed data: duplicate service slug %q", slug)
			}
			slugs[slug] = true
		}
	}
	emails := map[string]bool{}
	accounts := append(append(append([]seedAccount{}, seedStudents...), seedAdmins...), seedSupport...)
	for _, in := range seedInstructors {
		accounts = append(accounts, seedAccount{in.Email, in.Name})
		if len(in.Offers) < 2 || len(in.Offers) > 5 || len(in.Areas) < 1 || len(in.Areas) > 3 {
			return fmt.Errorf("seed data: instructor %s needs 2-5 offers and 1-3 areas", in.Email)
		}
		for _, o := range in.Offers {
			if !slugs[o.Service] {
				return fmt.Errorf("seed data: instructor %s offers unknown service %q", in.Email, o.Service)
			}
			if o.RateCents < 4000 || o.RateCents > 15000 || len(o.Durations) == 0 {
				return fmt.Errorf("seed data: instructor %s offer %s has a bad rate or no durations", in.Email, o.Service)
			}
			for _, d := range o.Durations {
				if d != 30 && d != 45 && d != 60 && d != 90 {
					return fmt.Errorf("seed data: instructor %s offer %s has bad duration %d", in.Email, o.Service, d)
				}
			}
		}
	}
	for _, a := range accounts {
		if a.Email != strings.ToLower(a.Email) || !strings.HasSuffix(a.Email, SeedEmailDomain) || emails[a.Email] {
			return fmt.Errorf("seed data: account email %q must be unique, lower case and end in %s", a.Email, SeedEmailDomain)
		}
		emails[a.Email] = true
	}
	return nil
}

// slugify turns a service name into its URL slug: "Voice & Singing" →
// "voice-and-singing", "C++ Programming" → "cpp-programming".
func slugify(name string) string {
	name = strings.NewReplacer("&", " and ", "+", "p", "#", " sharp ").Replace(strings.ToLower(name))
	var b strings.Builder
	dash := false
	for _, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
