package market

import (
	"slices"
	"testing"
	"time"
)

func TestSearchDatesFollowTheInstructorsCalendar(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time { x, _ := ParseDate(s); return x }
	// Sunday 2026-12-13 02:00 UTC: still Saturday evening in New York,
	// already Sunday morning in Tokyo.
	now := time.Date(2026, 12, 13, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    SearchQuery
		loc  *time.Location
		want []time.Time
	}{
		{"this weekend in New York is Saturday and Sunday", SearchQuery{Days: []time.Weekday{time.Sunday, time.Saturday}, Scope: ScopeThisWeek},
			ny, []time.Time{d("2026-12-12"), d("2026-12-13")}},
		{"this weekend in Tokyo is only Sunday left", SearchQuery{Days: []time.Weekday{time.Sunday, time.Saturday}, Scope: ScopeThisWeek},
			tokyo, []time.Time{d("2026-12-13")}},
		{"today", SearchQuery{Scope: ScopeToday}, ny, []time.Time{d("2026-12-12")}},
		{"tomorrow", SearchQuery{Scope: ScopeTomorrow}, tokyo, []time.Time{d("2026-12-14")}},
		{"saturdays within the horizon", SearchQuery{Days: []time.Weekday{time.Saturday}}, ny,
			[]time.Time{d("2026-12-12"), d("2026-12-19")}},
		{"next week", SearchQuery{Days: []time.Weekday{time.Monday}, Scope: ScopeNextWeek}, ny, []time.Time{d("2026-12-14")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.q.Dates(now, tc.loc, SearchHorizonDays)
			if !slices.EqualFunc(got, tc.want, func(a, b time.Time) bool { return a.Equal(b) }) {
				t.Fatalf("dates = %v, want %v", got, tc.want)
			}
		})
	}
}
