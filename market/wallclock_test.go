package market

import (
	"testing"
	"time"
)

// newYork is America/New_York; its DST days are the test cases here:
// 2027-03-14 skips 02:00–03:00 (spring forward) and 2026-11-01 runs
// 01:00–02:00 twice (fall back).
func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		t.Fatalf("load %s: %v", DefaultTimezone, err)
	}
	return loc
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func clock(t *testing.T, s string) Clock {
	t.Helper()
	c, err := ParseClock(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWallInstantMovesGapBoundariesToTheGapsEnd(t *testing.T) {
	ny := newYork(t)
	tests := []struct {
		name, date, clock, want string // want: UTC
	}{
		{"ordinary winter boundary", "2026-12-07", "09:00", "2026-12-07T14:00:00Z"},
		{"before the gap", "2027-03-14", "01:45", "2027-03-14T06:45:00Z"},
		{"gap start moves to 03:00 EDT", "2027-03-14", "02:00", "2027-03-14T07:00:00Z"},
		{"inside the gap moves to 03:00 EDT", "2027-03-14", "02:30", "2027-03-14T07:00:00Z"},
		{"gap end", "2027-03-14", "03:00", "2027-03-14T07:00:00Z"},
		{"24:00 on spring-forward day is the next midnight EDT", "2027-03-14", "24:00", "2027-03-15T04:00:00Z"},
		{"fall-back hour: first occurrence (EDT)", "2026-11-01", "01:30", "2026-11-01T05:30:00Z"},
		{"after fall-back (EST)", "2026-11-01", "02:00", "2026-11-01T07:00:00Z"},
		{"24:00 on fall-back day is the next midnight EST", "2026-11-01", "24:00", "2026-11-02T05:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := WallInstant(date(t, tc.date), clock(t, tc.clock), ny)
			if !got.Equal(utc(t, tc.want)) {
				t.Fatalf("WallInstant(%s %s) = %s, want %s", tc.date, tc.clock, got.UTC().Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestBusySpanFollowsRealTimeAcrossDST(t *testing.T) {
	ny := newYork(t)
	tests := []struct {
		name, date, start string
		minutes           int
		want              Span
	}{
		{"ordinary day", "2026-12-07", "10:00", 60, Span{600, 660}},
		{"ends at midnight", "2026-12-07", "23:00", 60, Span{1380, 1440}},
		{"spring forward: 01:30 for an hour blocks 01:30–03:30", "2027-03-14", "01:30", 60, Span{90, 210}},
		{"spring forward: 01:00 for an hour ends at 03:00", "2027-03-14", "01:00", 60, Span{60, 180}},
		{"spring forward: after the gap is ordinary", "2027-03-14", "03:00", 60, Span{180, 240}},
		{"fall back: 01:30 for an hour blocks 01:30–02:00", "2026-11-01", "01:30", 60, Span{90, 120}},
		{"fall back: 00:30 for two hours (to 01:30 EST) blocks 00:30–02:00", "2026-11-01", "00:30", 120, Span{30, 120}},
		{"fall back: 00:00 for three hours blocks 00:00–02:00", "2026-11-01", "00:00", 180, Span{0, 120}},
		{"fall back: after the repeat is ordinary", "2026-11-01", "02:00", 60, Span{120, 180}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, s := date(t, tc.date), clock(t, tc.start)
			startsAt, err := LocalInstant(d, s, ny)
			if err != nil {
				t.Fatal(err)
			}
			endsAt := startsAt.Add(time.Duration(tc.minutes) * time.Minute)
			if got := BusySpan(d, s, startsAt, endsAt, ny); got != tc.want {
				t.Fatalf("BusySpan = %s–%s, want %s–%s", got[0], got[1], tc.want[0], tc.want[1])
			}
		})
	}
}
