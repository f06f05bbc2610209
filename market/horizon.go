package market

import "time"

// HorizonYears is how far ahead a calendar date may lie in any request
// (windows, copies, patterns, bookings, reschedules, availability ranges).
// Beyond it nobody plans lessons, and unbounded dates reach the year-9999
// edge of Postgres's timestamps.
const HorizonYears = 2

// Horizon is the last calendar date (UTC midnight) a request may name, as
// of now. It is a day past HorizonYears from now's UTC date, so that no
// time zone's local date is refused early.
func Horizon(now time.Time) time.Time {
	y, m, d := now.UTC().AddDate(HorizonYears, 0, 1).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// BeyondHorizon reports whether the calendar date d lies past Horizon(now).
func BeyondHorizon(d, now time.Time) bool { return d.After(Horizon(now)) }
