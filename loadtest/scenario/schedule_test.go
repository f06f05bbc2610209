package scenario

import (
	"instainstru/loadtest/client"
	"math/rand/v2"
	"testing"
	"time"
)

func TestSchedulePickStaysInsideOpenTimeOnTheQuarterHour(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	s := newSchedule("i1", ny, []client.OfferedService{{ID: "svc", Durations: []int{30, 60}}})
	s.replace([]client.AvailabilityDay{
		{Date: "2030-03-04", Open: []client.Interval{{Start: "09:10", End: "10:30"}, {Start: "14:00", End: "14:30"}}},
		{Date: "2030-03-05", Open: nil},
	})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		sl, ok := s.pick(rng, time.Date(2030, 3, 1, 0, 0, 0, 0, ny))
		if !ok {
			t.Fatal("no slot picked from open time")
		}
		start, _ := minutes(sl.start)
		end := start + sl.duration
		inside := (start >= 9*60+10 && end <= 10*60+30) || (start >= 14*60 && end <= 14*60+30)
		if sl.date != "2030-03-04" || start%15 != 0 || !inside || sl.serviceID != "svc" {
			t.Fatalf("picked %+v: outside open time or off the 15-minute grid", sl)
		}
	}
}

func TestSchedulePickRespectsMinimumNotice(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	s := newSchedule("i1", ny, []client.OfferedService{{ID: "svc", Durations: []int{60}}})
	s.replace([]client.AvailabilityDay{{Date: "2030-03-04", Open: []client.Interval{{Start: "09:00", End: "12:00"}}}})
	rng := rand.New(rand.NewPCG(3, 4))
	notBefore := time.Date(2030, 3, 4, 10, 30, 0, 0, ny)
	for range 200 {
		sl, ok := s.pick(rng, notBefore)
		if !ok {
			continue
		}
		if sl.start != "10:30" && sl.start != "10:45" && sl.start != "11:00" {
			t.Fatalf("picked %s, before the notice limit 10:30", sl.start)
		}
	}
	if _, ok := s.pick(rng, time.Date(2030, 3, 5, 0, 0, 0, 0, ny)); ok {
		t.Fatal("picked a slot in the past")
	}
}

func TestScheduleReserveSplitsTheInterval(t *testing.T) {
	cases := []struct {
		name string
		sl   slot
		want []client.Interval
	}{
		{"middle", slot{date: "d", start: "10:00", duration: 60}, []client.Interval{{Start: "09:00", End: "10:00"}, {Start: "11:00", End: "12:00"}}},
		{"start", slot{date: "d", start: "09:00", duration: 30}, []client.Interval{{Start: "09:30", End: "12:00"}}},
		{"whole", slot{date: "d", start: "09:00", duration: 180}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSchedule("i", time.UTC, nil)
			s.replace([]client.AvailabilityDay{{Date: "d", Open: []client.Interval{{Start: "09:00", End: "12:00"}}}})
			s.reserve(c.sl)
			got := s.days["d"]
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
			if c.want == nil && len(s.dates) != 0 {
				t.Fatalf("fully booked day still listed: %v", s.dates)
			}
		})
	}
}

func TestMinutesParsesClockTimes(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "09:15": 555, "24:00": 1440} {
		if got, err := minutes(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"9:15", "25:00", "09:60", "ab:cd", ""} {
		if _, err := minutes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
