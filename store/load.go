package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// Dataset is reference data that Load writes in one transaction: a
// catalog, accounts, and instructors with their offers and windows. The
// demo data of `hubd seed` (package seed) is one; store knows nothing of
// its content, only the rules for writing it idempotently.
type Dataset struct {
	// Reset deletes, before loading, every booking, idempotency key and
	// offered service (they hang off the catalog being recreated), the
	// catalog, the event log with its topic counters, and the users whose
	// email ends in ResetDomain with their windows, profiles, roles and
	// refresh tokens.
	Reset       bool
	ResetDomain string
	Categories  []DatasetCategory
	Accounts    []DatasetAccount // students, admins, support staff
	Instructors []DatasetInstructor
}

// DatasetCategory is a category and its services, upserted by slug.
type DatasetCategory struct {
	Slug, Name, Description string
	SortOrder               int
	Services                []DatasetService
}

// DatasetService is one service of a category.
type DatasetService struct{ Slug, Name, Description string }

// DatasetAccount is a user matched by email and created, verified, with
// Role and PasswordHash when absent.
type DatasetAccount struct{ Email, Name, Role, PasswordHash string }

// DatasetInstructor is an instructor account (Account.Role is ignored) and
// the profile, offers and windows it is given.
type DatasetInstructor struct {
	Account DatasetAccount
	Bio     string // written only while the profile's bio is still empty
	Years   int
	Areas   []string // neighbourhood names or aliases (GET /areas)
	Offers  []DatasetOffer
	// Days returns, for the instructor's time zone, the span of local
	// dates the dataset covers and the windows it wants on them. A date
	// that already has a window is left alone.
	Days func(loc *time.Location) DatasetDays
}

// DatasetOffer is an offered service, added only if the instructor never
// had one for that service (one the instructor removed stays removed).
type DatasetOffer struct {
	ServiceSlug string
	RateCents   int
	Durations   []int
}

// DatasetDays is an instructor's wanted windows over From…To (dates).
type DatasetDays struct {
	From, To string
	Days     []DatasetDay // in date order
}

// DatasetDay is the windows wanted on one date.
type DatasetDay struct {
	Date    string
	Windows [][2]market.Clock
}

// LoadReport counts what the loaded data looks like after Load: the
// totals count rows of the dataset present after the run (so two runs
// report the same), the *Created fields what this run added.
type LoadReport struct {
	Categories  int
	Services    int
	Accounts    map[string]int // live accounts holding their dataset role, by role
	Instructors int            // instructor accounts that hold a profile
	Offers      int            // active offers of the dataset's instructors
	Windows     int            // their windows within each instructor's span

	UsersCreated   int
	OffersCreated  int
	WindowsCreated int
}

// Load writes d in one transaction through the same rules as the API's
// writes: users get their role and (instructors) a profile as at sign-up,
// areas are resolved like a profile update, and an instructor's new windows
// are announced with one availability.changed event, whose open time
// subtracts confirmed bookings, as any schedule change.
func (db *DB) Load(ctx context.Context, d Dataset) (LoadReport, error) {
	var rep LoadReport
	err := db.transact(ctx, func(tx pgx.Tx) error {
		rep = LoadReport{Accounts: map[string]int{}}
		if d.Reset {
			if err := resetDataset(ctx, tx, d.ResetDomain); err != nil {
				return err
			}
		}
		serviceIDs, err := loadCatalog(ctx, tx, d.Categories, &rep)
		if err != nil {
			return err
		}
		for _, a := range d.Accounts {
			if _, ok, err := ensureUserTx(ctx, tx, a, a.Role, &rep); err != nil {
				return err
			} else if ok {
				rep.Accounts[a.Role]++
			}
		}
		var events []market.NewEvent
		for _, in := range d.Instructors {
			ev, err := loadInstructorTx(ctx, tx, in, serviceIDs, &rep)
			if err != nil {
				return fmt.Errorf("instructor %s: %w", in.Account.Email, err)
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		// Last in the transaction: the topic row locks are held until commit.
		_, err = appendEvents(ctx, tx, events)
		return err
	})
	if err != nil {
		return LoadReport{}, fmt.Errorf("load: %w", err)
	}
	return rep, nil
}

// resetDataset deletes loaded domain data in foreign-key order.
func resetDataset(ctx context.Context, tx pgx.Tx, domain string) error {
	if domain == "" {
		return market.Errorf(market.EVALIDATION, "reset needs the email domain of the accounts to delete")
	}
	const owned = `(SELECT id FROM users WHERE email LIKE '%' || $1)`
	stmts := []struct {
		sql    string
		domain bool
	}{
		{`DELETE FROM bookings`, false},
		{`DELETE FROM idempotency_keys`, false},
		{`DELETE FROM instructor_services`, false},
		{`DELETE FROM availability_windows WHERE instructor_id IN ` + owned, true},
		{`DELETE FROM refresh_tokens WHERE user_id IN ` + owned, true},
		{`DELETE FROM instructor_profiles WHERE user_id IN ` + owned, true},
		{`DELETE FROM user_roles WHERE user_id IN ` + owned, true},
		{`DELETE FROM users WHERE id IN ` + owned, true},
		{`DELETE FROM services`, false},
		{`DELETE FROM categories`, false},
		{`DELETE FROM events`, false},
		{`DELETE FROM topic_seqs`, false},
	}
	for _, s := range stmts {
		var err error
		if s.domain {
			_, err = tx.Exec(ctx, s.sql, domain)
		} else {
			_, err = tx.Exec(ctx, s.sql)
		}
		if err != nil {
			return fmt.Errorf("reset (%s): %w", s.sql, err)
		}
	}
	return nil
}

// loadCatalog upserts categories and services by slug and returns service
// ids by slug. Rows already equal to the dataset are not rewritten.
func loadCatalog(ctx context.Context, tx pgx.Tx, cats []DatasetCategory, rep *LoadReport) (map[string]string, error) {
	ids := make(map[string]string)
	for _, c := range cats {
		var catID string
		err := tx.QueryRow(ctx, `
			INSERT INTO categories (slug, name, description, sort_order) VALUES ($1, $2, $3, $4)
			ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
				sort_order = EXCLUDED.sort_order
			RETURNING id`, c.Slug, c.Name, c.Description, c.SortOrder).Scan(&catID)
		if err != nil {
			return nil, fmt.Errorf("upsert category %s: %w", c.Slug, err)
		}
		rep.Categories++
		slugs, names, descs := make([]string, len(c.Services)), make([]string, len(c.Services)), make([]string, len(c.Services))
		for j, s := range c.Services {
			slugs[j], names[j], descs[j] = s.Slug, s.Name, s.Description
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

// ensureUserTx returns the id of the user with a.Email, creating it with
// role if absent, and whether the (live) user holds role.
func ensureUserTx(ctx context.Context, tx pgx.Tx, a DatasetAccount, role string, rep *LoadReport) (id string, hasRole bool, err error) {
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
	id, err = createUserTx(ctx, tx, market.NewUser{Email: a.Email, PasswordHash: a.PasswordHash, FullName: a.Name, Role: role, EmailVerified: true})
	if err != nil {
		return "", false, fmt.Errorf("create %s: %w", a.Email, err)
	}
	rep.UsersCreated++
	return id, true, nil
}

// loadInstructorTx ensures the instructor's account, profile, offers and
// windows, and returns the availability event for new windows (nil if none).
// An existing account that is not an instructor is left alone.
func loadInstructorTx(ctx context.Context, tx pgx.Tx, in DatasetInstructor, serviceIDs map[string]string, rep *LoadReport) (*market.NewEvent, error) {
	id, ok, err := ensureUserTx(ctx, tx, in.Account, market.RoleInstructor, rep)
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
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	areas, err := resolveAreas(ctx, tx, in.Areas)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE instructor_profiles SET bio = $2, years_experience = $3, areas = $4, updated_at = now()
		WHERE user_id = $1 AND bio = ''`, id, in.Bio, in.Years, areas); err != nil {
		return nil, fmt.Errorf("fill profile: %w", err)
	}
	for _, o := range in.Offers {
		sid, ok := serviceIDs[o.ServiceSlug]
		if !ok {
			return nil, market.Errorf(market.EVALIDATION, "offer of unknown service %q", o.ServiceSlug)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
			SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM instructor_services WHERE instructor_id = $1 AND service_id = $2)`,
			id, sid, o.RateCents, o.Durations)
		if err != nil {
			return nil, fmt.Errorf("offer %s: %w", o.ServiceSlug, err)
		}
		rep.OffersCreated += int(tag.RowsAffected())
	}
	var offers int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM instructor_services WHERE instructor_id = $1 AND is_active`, id).Scan(&offers); err != nil {
		return nil, fmt.Errorf("count offers: %w", err)
	}
	rep.Offers += offers
	if in.Days == nil {
		return nil, nil
	}
	return loadWindowsTx(ctx, tx, id, in.Days(loc), rep)
}

// loadWindowsTx adds the wanted windows on dates that have no window yet
// and returns the event announcing them.
func loadWindowsTx(ctx context.Context, tx pgx.Tx, id string, want DatasetDays, rep *LoadReport) (*market.NewEvent, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT date::text FROM availability_windows
		WHERE instructor_id = $1 AND date BETWEEN $2::date AND $3::date`, id, want.From, want.To)
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
	var dates, starts, ends []string
	newDays := map[string][][2]market.Clock{}
	var order []string
	for _, day := range want.Days {
		if has[day.Date] || len(day.Windows) == 0 {
			continue
		}
		newDays[day.Date] = day.Windows
		order = append(order, day.Date)
		for _, w := range day.Windows {
			dates, starts, ends = append(dates, day.Date), append(starts, w[0].String()), append(ends, w[1].String())
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
		WHERE instructor_id = $1 AND date BETWEEN $2::date AND $3::date`, id, want.From, want.To).Scan(&total); err != nil {
		return nil, fmt.Errorf("count windows: %w", err)
	}
	rep.Windows += total
	if len(order) == 0 {
		return nil, nil
	}
	return availabilityEvent(ctx, tx, id, order, newDays)
}

// availabilityEvent builds availability.changed for the new days: open time
// is windows minus time-blocking bookings (blocksTimeSQL), as everywhere else (a booking can
// outlive a deleted window, so a "new" day is not assumed empty).
func availabilityEvent(ctx context.Context, tx pgx.Tx, id string, order []string, windows map[string][][2]market.Clock) (*market.NewEvent, error) {
	rows, err := tx.Query(ctx, `SELECT date::text, (extract(epoch FROM start_time) / 60)::int,
			(extract(epoch FROM end_time) / 60)::int
		FROM bookings WHERE instructor_id = $1 AND `+blocksTimeSQL("")+` AND date = ANY($2::date[])
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
