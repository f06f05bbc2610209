package market

import (
	"fmt"
	"slices"
	"time"
)

// SlotMinutes is the alignment of every window and booking boundary.
const SlotMinutes = 15

// DefaultTimezone is where every instructor lives unless they say otherwise.
const DefaultTimezone = "America/New_York"

// Clock is a local wall-clock time of day in minutes since midnight (0..1440).
// 1440 is allowed only as an end ("24:00").
type Clock int

// ParseClock parses "HH:MM".
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	h, m := 0, 0
	for i, c := range []byte{s[0], s[1], s[3], s[4]} {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("time %q is not HH:MM", s)
		}
		if i < 2 {
			h = h*10 + int(c-'0')
		} else {
			m = m*10 + int(c-'0')
		}
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q is out of range", s)
	}
	return Clock(h*60 + m), nil
}

// String formats c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Aligned reports whether c falls on a 15-minute boundary.
func (c Clock) Aligned() bool { return int(c)%SlotMinutes == 0 }

// ParseDate parses "YYYY-MM-DD" as a calendar date (UTC midnight, no zone meaning).
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return d, nil
}

// Interval is a local [Start, End) on one day.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Window is an instructor's open block on one local date.
type Window struct {
	ID    string `json:"id"`
	Date  string `json:"date"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// Day is the availability of one local date: windows and what is still open.
type Day struct {
	Date    string     `json:"date"`
	Windows []Window   `json:"windows"`
	Open    []Interval `json:"open"`
}

// Availability is the GET availability response; Seq is the current seq of
// the instructor's availability topic so a client can subscribe from it.
type Availability struct {
	InstructorID string `json:"instructor_id"`
	Timezone     string `json:"timezone"`
	Seq          int64  `json:"seq"`
	Days         []Day  `json:"days"`
}

// OpenDay is one changed day in an availability.changed event.
type OpenDay struct {
	Date string     `json:"date"`
	Open []Interval `json:"open"`
}

// AvailabilityChanged is the data of an availability.changed event.
type AvailabilityChanged struct {
	InstructorID string    `json:"instructor_id"`
	Days         []OpenDay `json:"days"`
}

// Subtract returns windows minus busy, sorted by start. Either may come in
// any order (an unsorted one is copied and sorted, the caller's slice is
// left as it is). It is the definition of "open time".
func Subtract(windows, busy [][2]Clock) [][2]Clock {
	windows, busy = byStart(windows), byStart(busy)
	var out [][2]Clock
	for _, w := range windows {
		cur := w[0]
		for _, b := range busy {
			if b[1] <= cur || b[0] >= w[1] {
				continue
			}
			if b[0] > cur {
				out = append(out, [2]Clock{cur, b[0]})
			}
			if b[1] > cur {
				cur = b[1]
			}
		}
		if cur < w[1] {
			out = append(out, [2]Clock{cur, w[1]})
		}
	}
	return out
}

// LocalInstant returns the instant of date+clock in loc. It rejects wall
// times that do not exist (the spring-forward gap) so that a booking never
// silently shifts by an hour. For an ambiguous time (fall-back) the first
// occurrence is used, as Go's time.Date does.
func LocalInstant(date time.Time, c Clock, loc *time.Location) (time.Time, error) {
	y, m, d := date.Date()
	t := time.Date(y, m, d, 0, int(c), 0, 0, loc)
	if int(c) < 24*60 {
		if t.Hour() != int(c)/60 || t.Minute() != int(c)%60 || t.Day() != d {
			return time.Time{}, fmt.Errorf("%s %s does not exist in %s", date.Format(time.DateOnly), c, loc)
		}
	}
	return t, nil
}

// byStart is spans sorted by start: spans itself when already sorted, else
// a sorted copy.
func byStart(spans [][2]Clock) [][2]Clock {
	cmp := func(a, b [2]Clock) int { return int(a[0]) - int(b[0]) }
	if slices.IsSortedFunc(spans, cmp) {
		return spans
	}
	out := slices.Clone(spans)
	slices.SortStableFunc(out, cmp)
	return out
}
