package market

import (
	"fmt"
	"time"
)

// ParseDateRange parses an inclusive [from, to] range of calendar dates
// (YYYY-MM-DD) as of now: EVALIDATION naming fromField or toField when a
// date is malformed, to is before from, to lies past Horizon(now), or the
// range covers more than MaxRangeDays. Both the http layer (before a cache
// lookup) and the store (before a read or a write) apply this one rule.
func ParseDateRange(from, to, fromField, toField string, now time.Time) (time.Time, time.Time, error) {
	f, err := ParseDate(from)
	if err != nil {
		return time.Time{}, time.Time{}, ValidationError(map[string]string{fromField: "must be a date YYYY-MM-DD"})
	}
	t, err := ParseDate(to)
	if err != nil {
		return time.Time{}, time.Time{}, ValidationError(map[string]string{toField: "must be a date YYYY-MM-DD"})
	}
	if t.Before(f) {
		return time.Time{}, time.Time{}, ValidationError(map[string]string{toField: "must not be before " + fromField})
	}
	if fields := map[string]string{}; CheckHorizon(t, toField, now, fields) {
		return time.Time{}, time.Time{}, ValidationError(fields)
	}
	if days := int(t.Sub(f).Hours()/24+0.5) + 1; days > MaxRangeDays {
		return time.Time{}, time.Time{}, ValidationError(map[string]string{toField: fmt.Sprintf("range must cover at most %d days", MaxRangeDays)})
	}
	return f, t, nil
}

// CheckHorizon records in fields that the calendar date d (named field)
// lies past Horizon(now), and reports whether it did.
func CheckHorizon(d time.Time, field string, now time.Time, fields map[string]string) bool {
	if !BeyondHorizon(d, now) {
		return false
	}
	fields[field] = fmt.Sprintf("must be at most %d years ahead (on or before %s)",
		HorizonYears, Horizon(now).Format(time.DateOnly))
	return true
}
