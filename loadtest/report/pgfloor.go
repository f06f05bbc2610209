package report

import (
	"fmt"

	"instainstru/loadtest/pgfloor"
)

// FloorRow is one write scenario beside the Postgres floor measured in the
// same run (loadtest pgfloor): the same statements, the same concurrency,
// no Go in between.
type FloorRow struct {
	Scenario   string
	Floor      *pgfloor.Stats
	What       string  // "bookings/s" or "changes/s"
	FloorRate  float64 // the floor's rate of What
	Hub, Ratio float64 // the scenario's committed rate and its share of the floor's
}

// CompareWithPgFloor pairs each write scenario with its floor (bookings:
// the booking script; changes: the change script), and appends SPEC §7's
// write-path target to booking-storm: bookings created per second ≥ 0.7×
// the floor's. The storm offers a fixed rate, so below saturation its
// ratio is a lower bound of what the hub can do.
func CompareWithPgFloor(results []*Result, floors []*pgfloor.Stats) []FloorRow {
	byScript := map[string]*pgfloor.Stats{}
	for _, f := range floors {
		byScript[f.Script] = f
	}
	var rows []FloorRow
	for _, r := range results {
		secs := r.Config.Duration.Seconds()
		if secs <= 0 {
			continue
		}
		switch r.Scenario {
		case "booking-storm", "booking-steady":
			f := byScript[pgfloor.Booking]
			if f == nil || f.Writes <= 0 {
				continue
			}
			row := FloorRow{Scenario: r.Scenario, Floor: f, What: "bookings/s", FloorRate: f.Writes, Hub: float64(r.Bookings.Created) / secs}
			row.Ratio = row.Hub / f.Writes
			rows = append(rows, row)
			if r.Scenario == "booking-storm" {
				r.Targets = append(r.Targets, TargetResult{Name: "bookings created/s ÷ Postgres floor bookings/s",
					Value: fmt.Sprintf("%.2f× (%.0f of %.0f)", row.Ratio, row.Hub, f.Writes), Limit: "≥ 0.70×", Pass: row.Ratio >= 0.7})
			}
		case "changes":
			f := byScript[pgfloor.Change]
			if f == nil || f.Changes <= 0 {
				continue
			}
			row := FloorRow{Scenario: r.Scenario, Floor: f, What: "changes/s", FloorRate: f.Changes,
				Hub: float64(r.Bookings.Created+r.Bookings.Cancelled) / secs}
			row.Ratio = row.Hub / f.Changes
			rows = append(rows, row)
		}
	}
	return rows
}
