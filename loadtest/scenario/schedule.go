package scenario

import (
	"fmt"
	"instainstru/loadtest/client"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"
)

// schedule is the generator's view of one instructor's open time, as a
// student's app would hold it: the REST snapshot, then every
// availability.changed push applied on top. Bookers pick slots from it so
// that 409s come from real races, not from a stale picture.
type schedule struct {
	instructorID string
	loc          *time.Location
	services     []client.OfferedService

	mu    sync.Mutex
	days  map[string][]client.Interval
	dates []string // sorted keys of days that have open time
}

func newSchedule(id string, loc *time.Location, services []client.OfferedService) *schedule {
	return &schedule{instructorID: id, loc: loc, services: services, days: map[string][]client.Interval{}}
}

// replace sets the open intervals of the given days.
func (s *schedule) replace(days []client.AvailabilityDay) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range days {
		if len(d.Open) == 0 {
			delete(s.days, d.Date)
		} else {
			s.days[d.Date] = append([]client.Interval(nil), d.Open...)
		}
	}
	s.dates = s.dates[:0]
	for d := range s.days {
		s.dates = append(s.dates, d)
	}
	sort.Strings(s.dates)
}

// openMinutes is the total open time, used to choose instructors.
func (s *schedule) openMinutes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, iv := range s.days {
		for _, o := range iv {
			a, _ := minutes(o.Start)
			b, _ := minutes(o.End)
			n += b - a
		}
	}
	return n
}

// slot is one booking request's time and service.
type slot struct {
	serviceID string
	date      string
	start     string
	duration  int
}

// pick chooses a random open slot: a service and one of its durations, a
// day, an interval long enough, and a 15-minute-aligned start, no earlier
// than notBefore.
func (s *schedule) pick(rng *rand.Rand, notBefore time.Time) (slot, bool) {
	if len(s.services) == 0 {
		return slot{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dates) == 0 {
		return slot{}, false
	}
	for attempt := 0; attempt < 40; attempt++ {
		svc := s.services[rng.IntN(len(s.services))]
		if len(svc.Durations) == 0 {
			continue
		}
		dur := svc.Durations[rng.IntN(len(svc.Durations))]
		date := s.dates[rng.IntN(len(s.dates))]
		open := s.days[date]
		iv := open[rng.IntN(len(open))]
		a, err1 := minutes(iv.Start)
		b, err2 := minutes(iv.End)
		if err1 != nil || err2 != nil {
			continue
		}
		first := (a + 14) / 15 * 15
		last := b - dur
		if last < first {
			continue
		}
		start := first + 15*rng.IntN((last-first)/15+1)
		at, err := localInstant(date, start, s.loc)
		if err != nil || at.Before(notBefore) {
			continue
		}
		return slot{serviceID: svc.ID, date: date, start: hhmm(start), duration: dur}, true
	}
	return slot{}, false
}

// reserve removes a booked slot at once, before its push arrives, so the
// next pick does not race for it.
func (s *schedule) reserve(sl slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _ := minutes(sl.start)
	b := a + sl.duration
	var out []client.Interval
	for _, iv := range s.days[sl.date] {
		x, _ := minutes(iv.Start)
		y, _ := minutes(iv.End)
		if y <= a || x >= b {
			out = append(out, iv)
			continue
		}
		if x < a {
			out = append(out, client.Interval{Start: iv.Start, End: hhmm(a)})
		}
		if y > b {
			out = append(out, client.Interval{Start: hhmm(b), End: iv.End})
		}
	}
	if len(out) == 0 {
		delete(s.days, sl.date)
		for i, d := range s.dates {
			if d == sl.date {
				s.dates = append(s.dates[:i], s.dates[i+1:]...)
				break
			}
		}
		return
	}
	s.days[sl.date] = out
}

// minutes parses "HH:MM" (up to "24:00").
func minutes(hm string) (int, error) {
	if len(hm) != 5 || hm[2] != ':' {
		return 0, fmt.Errorf("bad time %q", hm)
	}
	h, err1 := strconv.Atoi(hm[:2])
	m, err2 := strconv.Atoi(hm[3:])
	if err1 != nil || err2 != nil || h > 24 || m > 59 {
		return 0, fmt.Errorf("bad time %q", hm)
	}
	return h*60 + m, nil
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func localInstant(date string, min int, loc *time.Location) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", date, loc)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day(), min/60, min%60, 0, 0, loc), nil
}

// pickBlind chooses a slot without looking at open time (08:00–20:00 on a
// random day of the range): when the view has no open slot left — it lags
// behind a slow server — the attempt is still sent, so the request rate
// holds; it will mostly be a 409, which is load too.
func (s *schedule) pickBlind(rng *rand.Rand, notBefore time.Time, from string, days int) (slot, bool) {
	if len(s.services) == 0 {
		return slot{}, false
	}
	start, err := time.ParseInLocation("2006-01-02", from, s.loc)
	if err != nil {
		return slot{}, false
	}
	for attempt := 0; attempt < 40; attempt++ {
		svc := s.services[rng.IntN(len(s.services))]
		if len(svc.Durations) == 0 {
			continue
		}
		dur := svc.Durations[rng.IntN(len(svc.Durations))]
		date := start.AddDate(0, 0, rng.IntN(days)).Format("2006-01-02")
		if 20*60-dur < 8*60 {
			continue
		}
		m := 8*60 + 15*rng.IntN((20*60-dur-8*60)/15+1)
		at, err := localInstant(date, m, s.loc)
		if err != nil || at.Before(notBefore) {
			continue
		}
		return slot{serviceID: svc.ID, date: date, start: hhmm(m), duration: dur}, true
	}
	return slot{}, false
}
