package store

import (
	"fmt"
	"time"

	"instainstru/market"
)

// beyondHorizon records in fields that d (named field) lies past the
// planning horizon, and reports whether it did. The horizon is taken from
// the wall clock: it is a sanity bound, not a business rule that tests
// move in time.
func beyondHorizon(d time.Time, field string, fields map[string]string) bool {
	if !market.BeyondHorizon(d, time.Now()) {
		return false
	}
	fields[field] = fmt.Sprintf("must be at most %d years ahead (on or before %s)",
		market.HorizonYears, dateString(market.Horizon(time.Now())))
	return true
}
