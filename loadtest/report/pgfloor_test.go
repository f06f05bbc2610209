package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"instainstru/loadtest/config"
	"instainstru/loadtest/pgfloor"
)

func TestWriteScenariosAreComparedWithThePostgresFloor(t *testing.T) {
	storm := &Result{Scenario: "booking-storm", Config: config.Config{Duration: 10 * time.Second}, Bookings: BookingStats{Created: 1500}}
	changes := &Result{Scenario: "changes", Config: config.Config{Duration: 10 * time.Second}, Bookings: BookingStats{Created: 3000, Cancelled: 2900}}
	idle := &Result{Scenario: "idle-conns", Config: config.Config{Duration: 10 * time.Second}}
	floors := []*pgfloor.Stats{{Script: pgfloor.Booking, Clients: 50, Writes: 250, P50Millis: 4, P99Millis: 20},
		{Script: pgfloor.Change, Clients: 10, Changes: 1180}}
	rows := CompareWithPgFloor([]*Result{storm, changes, idle}, floors)
	if len(rows) != 2 || rows[0].Ratio != 0.6 || rows[1].Ratio != 0.5 || rows[1].FloorRate != 1180 {
		t.Fatalf("rows %+v", rows)
	}
	last := storm.Targets[len(storm.Targets)-1]
	if last.Pass || last.Limit != "≥ 0.70×" || !strings.HasPrefix(last.Value, "0.60×") {
		t.Fatalf("storm's floor target %+v", last)
	}
	if len(changes.Targets) != 0 {
		t.Fatalf("changes got a floor target (SPEC §7 sets none): %+v", changes.Targets)
	}
	var b bytes.Buffer
	if err := WriteMarkdownWithFloors(&b, []*Result{storm, changes}, rows, nil, machine{}, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Write path beside the Postgres floor", "| booking-storm | 50 | 250 bookings/s | 4.0 / 20.0 ms | 150 bookings/s | **0.60×** |",
		"| changes | 10 | 1180 changes/s", "bookings created/s ÷ Postgres floor bookings/s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
