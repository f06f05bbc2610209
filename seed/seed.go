// Package seed is the demo data of `hubd seed` and `make run` (SPEC §8):
// a catalog, demo accounts, instructors with offers, and the coming weeks
// of availability. It writes through store.DB.Load, so the production
// store package holds the rules for writing data, not the data.
package seed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
)

// HorizonDays is how many local days, today included, Run fills with
// availability for each seeded instructor.
const HorizonDays = 28

// Options configures Run.
type Options struct {
	// Reset deletes seeded domain data before seeding (see Run).
	Reset bool
	// Now anchors the availability horizon; zero means time.Now().
	Now time.Time
	// PasswordHash is an optional precomputed bcrypt hash of Password,
	// so tests can use bcrypt.MinCost instead of paying DefaultCost.
	PasswordHash string
	// Env is APP_ENV; Reset is refused when it is "production".
	Env string
}

// Report says what the seeded data looks like after Run. The totals
// (Categories … Windows) count seeded rows present after the run, so two
// runs with the same options report the same totals; the *Created fields
// say what this run added.
type Report struct {
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
func (r Report) String() string {
	var b strings.Builder
	if r.Reset {
		b.WriteString("reset: deleted seeded data first\n")
	}
	fmt.Fprintf(&b, "catalog: %d categories, %d services\n", r.Categories, r.Services)
	fmt.Fprintf(&b, "accounts: instructors %d, students %d, admins %d (%d created now)\n",
		r.Instructors, r.Students, r.Admins, r.UsersCreated)
	fmt.Fprintf(&b, "offers: %d (%d created now)\n", r.Offers, r.OffersCreated)
	fmt.Fprintf(&b, "availability: %d windows over the next %d days (%d created now)\n",
		r.Windows, HorizonDays, r.WindowsCreated)
	fmt.Fprintf(&b, "demo accounts, all with password %s:\n", Password)
	fmt.Fprintf(&b, "  instructors: %s, %s (and %d more %s instructors)\n",
		seedInstructors[0].Email, seedInstructors[1].Email, len(seedInstructors)-2, EmailDomain)
	fmt.Fprintf(&b, "  students:    %s, %s (and %d more)\n",
		seedStudents[0].Email, seedStudents[1].Email, len(seedStudents)-2)
	fmt.Fprintf(&b, "  admin:       %s\n", seedAdmins[0].Email)
	fmt.Fprintf(&b, "  support:     %s (read-only)", seedSupport[0].Email)
	return b.String()
}

// Run writes the demo catalog, accounts, offered services and the coming
// weeks of availability, in one transaction (store.DB.Load).
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
// recreated), the catalog, users under EmailDomain with their windows,
// profiles and refresh tokens, and the event log with its topic counters.
// Reset is refused with EFORBIDDEN when Env is production.
func Run(ctx context.Context, db *store.DB, opts Options) (Report, error) {
	if opts.Reset && strings.EqualFold(strings.TrimSpace(opts.Env), "production") {
		return Report{}, market.Errorf(market.EFORBIDDEN,
			"refusing to reset seed data in production (APP_ENV=production): it would delete bookings and accounts")
	}
	if err := validateSeedData(); err != nil {
		return Report{}, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	hash := opts.PasswordHash
	if hash == "" {
		h, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.DefaultCost)
		if err != nil {
			return Report{}, fmt.Errorf("seed: hash password: %w", err)
		}
		hash = string(h)
	}
	lr, err := db.Load(ctx, dataset(opts.Reset, hash, now))
	if err != nil {
		return Report{}, fmt.Errorf("seed: %w", err)
	}
	return Report{
		Categories: lr.Categories, Services: lr.Services, Instructors: lr.Instructors,
		Students: lr.Accounts[market.RoleStudent], Admins: lr.Accounts[market.RoleAdmin], Support: lr.Accounts[market.RoleSupport],
		Offers: lr.Offers, Windows: lr.Windows,
		UsersCreated: lr.UsersCreated, OffersCreated: lr.OffersCreated, WindowsCreated: lr.WindowsCreated,
		Reset: opts.Reset,
	}, nil
}

// dataset is the demo data in store's terms, every account with hash.
func dataset(reset bool, hash string, now time.Time) store.Dataset {
	d := store.Dataset{Reset: reset, ResetDomain: EmailDomain}
	for i, c := range seedCategories {
		dc := store.DatasetCategory{Slug: c.Slug, Name: c.Name, Description: c.Description, SortOrder: (i + 1) * 10}
		for _, s := range c.Services {
			name, desc, _ := strings.Cut(s, "|")
			dc.Services = append(dc.Services, store.DatasetService{Slug: slugify(name), Name: name, Description: desc})
		}
		d.Categories = append(d.Categories, dc)
	}
	for _, g := range []struct {
		role     string
		accounts []seedAccount
	}{{market.RoleStudent, seedStudents}, {market.RoleAdmin, seedAdmins}, {market.RoleSupport, seedSupport}} {
		for _, a := range g.accounts {
			d.Accounts = append(d.Accounts, store.DatasetAccount{Email: a.Email, Name: a.Name, Role: g.role, PasswordHash: hash})
		}
	}
	for _, in := range seedInstructors {
		di := store.DatasetInstructor{
			Account: store.DatasetAccount{Email: in.Email, Name: in.Name, Role: market.RoleInstructor, PasswordHash: hash},
			Bio:     in.Bio, Years: in.Years, Areas: in.Areas,
			Days: func(loc *time.Location) store.DatasetDays { return horizonDays(in, now.In(loc)) },
		}
		for _, o := range in.Offers {
			di.Offers = append(di.Offers, store.DatasetOffer{ServiceSlug: o.Service, RateCents: o.RateCents, Durations: o.Durations})
		}
		d.Instructors = append(d.Instructors, di)
	}
	return d
}

// horizonDays is the instructor's pattern over the HorizonDays local dates
// from localNow's, today's windows starting no earlier than now.
func horizonDays(in seedInstructor, localNow time.Time) store.DatasetDays {
	y, m, d := localNow.Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 0, HorizonDays-1)
	nowClock := market.Clock(localNow.Hour()*60 + localNow.Minute())
	if localNow.Second() > 0 || localNow.Nanosecond() > 0 {
		nowClock++
	}
	out := store.DatasetDays{From: first.Format(time.DateOnly), To: last.Format(time.DateOnly)}
	for i := range HorizonDays {
		day := first.AddDate(0, 0, i)
		notBefore := market.Clock(0)
		if i == 0 {
			notBefore = nowClock
		}
		if ws := seedDayWindows(in, day, notBefore); len(ws) > 0 {
			out.Days = append(out.Days, store.DatasetDay{Date: day.Format(time.DateOnly), Windows: ws})
		}
	}
	return out
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

// validateSeedData catches mistakes in data.go before anything is
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
		if a.Email != strings.ToLower(a.Email) || !strings.HasSuffix(a.Email, EmailDomain) || emails[a.Email] {
			return fmt.Errorf("seed data: account email %q must be unique, lower case and end in %s", a.Email, EmailDomain)
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
