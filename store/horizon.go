package store

import (
	"time"

	"instainstru/market"
)

// The horizon and range rules live in market; the store applies them with
// the wall clock: they are sanity bounds, not business rules that tests
// move in time.

// beyondHorizon records in fields that d (named field) lies past the
// planning horizon, and reports whether it did.
func beyondHorizon(d time.Time, field string, fields map[string]string) bool {
	return market.CheckHorizon(d, field, time.Now(), fields)
}

// parseRange parses an inclusive [from, to] date range of at most
// market.MaxRangeDays (market.ParseDateRange).
func parseRange(from, to string, fromField, toField string) (time.Time, time.Time, error) {
	return market.ParseDateRange(from, to, fromField, toField, time.Now())
}
