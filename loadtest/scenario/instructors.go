package scenario

import (
	"context"
	"fmt"
	"instainstru/loadtest/client"
	"net/http"
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
			d, err := r.api.Instructor(gctx, base, sess.UserID)
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
