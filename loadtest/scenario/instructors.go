package scenario

import (
	"context"
	"errors"
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/measure"
	"net/http"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// createInstructors registers n instructors for this run when the cluster
// has fewer than a scenario needs (the seed has ~30; booking-storm asks for
// 50): each offers two catalog services and is open 08:00–20:00 every day of
// the booked range, set through the instructor API like a real instructor.
// Their emails are under @example.com, the seeded accounts' domain, so
// `hubd seed --reset` removes them with the other demo data.
func (r *runner) createInstructors(ctx context.Context, n int) ([]candidate, error) {
	cfg := r.cfg
	base := cfg.URLs[0]
	var svcList struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if _, err := r.api.Do(ctx, http.MethodGet, base+"/api/v1/services", "", nil, nil, &svcList); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	if len(svcList.Items) < 2 {
		return nil, fmt.Errorf("the catalog has %d services; seed it first", len(svcList.Items))
	}
	ny, _ := time.LoadLocation("America/New_York")
	from, _ := time.ParseInLocation("2006-01-02", r.from, ny)
	to, _ := time.ParseInLocation("2006-01-02", r.to, ny)
	monday := from.AddDate(0, 0, -((int(from.Weekday()) + 6) % 7))

	out := make([]candidate, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error {
			// Named so that emailFromName finds the account again: a later
			// run that picks this instructor can sign it in for its pushes.
			name := fmt.Sprintf("Loadtest %s Instructor %d", cfg.RunID, i)
			email := emailFromName(name)
			sess, err := r.api.Register(gctx, base, email, cfg.Password, name, "instructor")
			if err != nil {
				return fmt.Errorf("register instructor %s: %w", email, err)
			}
			for k := range 2 {
				svc := svcList.Items[(i*2+k)%len(svcList.Items)].ID
				body := map[string]any{"service_id": svc, "hourly_rate_cents": 6000 + 500*k, "durations": []int{30, 60}}
				if _, err := r.api.Do(gctx, http.MethodPost, base+"/api/v1/instructors/me/services", sess.Token, nil, body, nil); err != nil {
					return fmt.Errorf("instructor %s: add service: %w", email, err)
				}
			}
			for wk := monday; !wk.After(to); wk = wk.AddDate(0, 0, 7) {
				var days []map[string]any
				for d := range 7 {
					day := wk.AddDate(0, 0, d)
					if day.Before(from) || day.After(to) {
						continue // past days cannot take windows
					}
					days = append(days, map[string]any{"date": day.Format("2006-01-02"), "windows": []client.Interval{{Start: "08:00", End: "20:00"}}})
				}
				body := map[string]any{"week_start": wk.Format("2006-01-02"), "days": days}
				if _, err := r.api.Do(gctx, http.MethodPut, base+"/api/v1/instructors/me/availability/week", sess.Token, nil, body, nil); err != nil {
					return fmt.Errorf("instructor %s: set week %s: %w", email, wk.Format("2006-01-02"), err)
				}
			}
			// Its own view: a new instructor's email is not verified, so
			// the public detail is 404 (and only ALLOW_UNVERIFIED_BOOKING
			// lets the run's students book it).
			d, err := r.api.OwnProfile(gctx, base, sess)
			if err != nil {
				return err
			}
			av, err := r.api.Availability(gctx, base, sess.UserID, r.from, r.to)
			if err != nil {
				return err
			}
			loc, err := time.LoadLocation(d.Timezone)
			if err != nil || d.Timezone == "" {
				loc = ny
			}
			s := newSchedule(sess.UserID, loc, d.Services)
			s.replace(av.Days)
			out[i] = candidate{sched: s, seq: av.Seq, open: s.openMinutes()}
			r.instrMu.Lock()
			r.instrSess[sess.UserID] = sess
			r.instrMu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// candidate is a listed instructor with services: its open time and the
// seq of its availability snapshot.
type candidate struct {
	sched *schedule
	seq   int64
	open  int
}

// chooseInstructors picks the run's instructors (most open time first,
// -instructor-emails first of all), creates the missing ones if allowed, and
// gives each a home node for its writes and a topic track.
func (r *runner) chooseInstructors(ctx context.Context) error {
	cfg := r.cfg
	list, err := r.api.ListInstructors(ctx, cfg.URLs[0], max(100, 2*cfg.Instructors))
	if err != nil {
		return fmt.Errorf("list instructors: %w", err)
	}
	if len(list) == 0 {
		return errors.New("the cluster lists no instructors: seed it first (hubd seed)")
	}
	cands, err := r.candidates(ctx, list)
	if err != nil {
		return err
	}
	// Most open time first: the fan-out instructor must stay bookable, and
	// a storm spreads over the roomiest schedules.
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].open != cands[j].open {
			return cands[i].open > cands[j].open
		}
		return cands[i].sched.instructorID < cands[j].sched.instructorID
	})
	if len(cfg.InstructorEmails) > 0 {
		cands = r.preferListed(ctx, cands)
	}
	var usable []candidate
	for _, c := range cands {
		if c.open >= 60 || cfg.Rate == 0 {
			usable = append(usable, c)
		}
	}
	if missing := cfg.Instructors - len(usable); missing > 0 && cfg.CreateInstructors {
		r.logf("instructors: the cluster has %d usable, creating %d for this run", len(usable), missing)
		made, err := r.createInstructors(ctx, missing)
		if err != nil {
			return err
		}
		usable = append(usable, made...)
	}
	if len(usable) == 0 {
		return fmt.Errorf("no instructor has open time between %s and %s", r.from, r.to)
	}
	if len(usable) < cfg.Instructors {
		r.warn("asked for %d instructors, the cluster has %d with services and open time: using %d",
			cfg.Instructors, len(usable), len(usable))
	}
	r.adopt(usable[:min(len(usable), cfg.Instructors)])
	r.logf("instructors: %d chosen (%d listed), open time %s..%s", len(r.instructors), len(list), r.from, r.to)
	return nil
}

// adopt makes the chosen instructors the run's, spreading their homes over
// the booking nodes.
func (r *runner) adopt(usable []candidate) {
	for i, c := range usable {
		home := r.cfg.BookOn[i%len(r.cfg.BookOn)]
		r.instructors = append(r.instructors, c.sched)
		t := measure.NewTopicTrack(c.sched.instructorID, home)
		t.Final = c.seq // until read again at the end
		r.tracks = append(r.tracks, t)
		r.home[c.sched.instructorID] = home
	}
}

// candidates reads each listed instructor's services and open time, eight
// at a time; instructors without a bookable service are left out.
func (r *runner) candidates(ctx context.Context, list []client.InstructorSummary) ([]candidate, error) {
	var (
		mu    sync.Mutex
		cands []candidate
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, it := range list {
		g.Go(func() error {
			c, err := r.candidate(gctx, it.ID)
			if c != nil {
				mu.Lock()
				cands = append(cands, *c)
				mu.Unlock()
			}
			return err
		})
	}
	return cands, g.Wait()
}

// candidate reads one instructor; nil without a bookable service.
func (r *runner) candidate(ctx context.Context, id string) (*candidate, error) {
	base := r.cfg.URLs[0]
	d, err := r.api.Instructor(ctx, base, id)
	if err != nil {
		return nil, fmt.Errorf("instructor %s: %w", id, err)
	}
	var svcs []client.OfferedService
	for _, s := range d.Services {
		if len(s.Durations) > 0 {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) == 0 {
		return nil, nil
	}
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil || d.Timezone == "" {
		loc, _ = time.LoadLocation("America/New_York")
	}
	av, err := r.api.Availability(ctx, base, id, r.from, r.to)
	if err != nil {
		return nil, fmt.Errorf("availability of %s: %w", id, err)
	}
	s := newSchedule(id, loc, svcs)
	s.replace(av.Days)
	return &candidate{sched: s, seq: av.Seq, open: s.openMinutes()}, nil
}

// preferListed signs in the -instructor-emails accounts and puts those
// instructors first (their pushes can then be checked).
func (r *runner) preferListed(ctx context.Context, cands []candidate) []candidate {
	ids := map[string]bool{}
	for _, e := range r.cfg.InstructorEmails {
		s, err := r.api.Login(ctx, r.cfg.URLs[0], e, r.cfg.Password)
		if err != nil {
			r.warn("instructor %s: login failed: %v", e, err)
			continue
		}
		r.instrSess[s.UserID] = s
		ids[s.UserID] = true
	}
	sort.SliceStable(cands, func(i, j int) bool {
		return ids[cands[i].sched.instructorID] && !ids[cands[j].sched.instructorID]
	})
	return cands
}
