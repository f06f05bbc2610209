package market

import "time"

// Wall clock and instants. A window or booking is written in the
// instructor's local wall time (a calendar date and a Clock); what it
// covers is decided in real time (instants). These functions are the only
// place where one becomes the other, so DST days are handled once.

// Span is a local [start, end) of one day in minutes.
type Span = [2]Clock

// WallInstant is the instant of a window boundary: date+c in loc, where a
// boundary that falls in a spring-forward gap moves to the end of the gap
// (the first wall time that exists) and 24:00 is the next midnight. An
// ambiguous boundary (fall-back) is its first occurrence.
func WallInstant(date time.Time, c Clock, loc *time.Location) time.Time {
	y, mo, d := date.Date()
	for m := int(c); ; m += SlotMinutes {
		t := time.Date(y, mo, d, 0, m, 0, 0, loc)
		if m >= 24*60 || (t.Day() == d && t.Hour()*60+t.Minute() == m) {
			return t
		}
	}
}

// BusySpan is the wall-clock part of date that a booking [startsAt, endsAt)
// starting at wall time start covers: every existing wall time from its
// start whose instant (first occurrence, as bookings are placed) falls
// before endsAt. On ordinary days it is start+duration; across a DST change
// it follows real time, so an hour-long lesson at 01:30 on fall-back day
// blocks 01:30–02:00 wall time (01:30 EDT–01:30 EST) and one at 01:30 on
// spring-forward day blocks 01:30–03:30. A lesson past midnight ends at
// 24:00.
func BusySpan(date time.Time, start Clock, startsAt, endsAt time.Time, loc *time.Location) Span {
	y, mo, d := date.Date()
	fast := start + Clock(endsAt.Sub(startsAt)/time.Minute)
	if fast <= 24*60 {
		if t := time.Date(y, mo, d, 0, int(fast), 0, 0, loc); t.Equal(endsAt) && (fast == 24*60 || t.Hour()*60+t.Minute() == int(fast)) {
			return Span{start, fast}
		}
	}
	for m := int(start) + SlotMinutes; m < 24*60; m += SlotMinutes {
		t := time.Date(y, mo, d, 0, m, 0, 0, loc)
		if t.Day() != d || t.Hour()*60+t.Minute() != m {
			continue // does not exist (spring-forward gap)
		}
		if !t.Before(endsAt) {
			return Span{start, Clock(m)}
		}
	}
	return Span{start, 24 * 60}
}

// wallEnd is the wall end on date of a lesson ending at endsAt: its local
// time of day, or 24:00 when it ends on a later day (only 24:00 can pass
// the window check then).
func wallEnd(date, endsAt time.Time, loc *time.Location) Clock {
	le := endsAt.In(loc)
	end := Clock(le.Hour()*60 + le.Minute())
	if y, m, d := le.Date(); time.Date(y, m, d, 0, 0, 0, 0, time.UTC).After(date) {
		end += 24 * 60
	}
	if end > 24*60 {
		end = 24 * 60
	}
	return end
}
