package market

import (
	"slices"
	"testing"
	"time"
)

func TestParseClockAcceptsHHMMUpTo2400Only(t *testing.T) {
	tests := []struct {
		in      string
		want    Clock
		wantErr bool
	}{
		{"00:00", 0, false},
		{"09:15", 9*60 + 15, false},
		{"23:59", 23*60 + 59, false},
		{"24:00", 1440, false},
		{"24:01", 0, true},
		{"25:00", 0, true},
		{"12:60", 0, true},
		{"9:15", 0, true},
		{"09:5", 0, true},
		{"0915", 0, true},
		{"09-15", 0, true},
		{"+9:15", 0, true},
		{"0a:15", 0, true},
		{"09:15:00", 0, true},
		{"", 0, true},
		{"０９:15", 0, true}, // full-width digits are not ASCII digits
	}
	for _, tc := range tests {
		got, err := ParseClock(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestClockFormatsAndAlignsOnQuarterHours(t *testing.T) {
	tests := []struct {
		c       Clock
		str     string
		aligned bool
	}{
		{0, "00:00", true},
		{9*60 + 15, "09:15", true},
		{9*60 + 10, "09:10", false},
		{23*60 + 45, "23:45", true},
		{1440, "24:00", true},
	}
	for _, tc := range tests {
		if tc.c.String() != tc.str || tc.c.Aligned() != tc.aligned {
			t.Errorf("Clock(%d) = %q aligned %v; want %q aligned %v", tc.c, tc.c, tc.c.Aligned(), tc.str, tc.aligned)
		}
		if back, err := ParseClock(tc.c.String()); err != nil || back != tc.c {
			t.Errorf("Clock(%d) does not round-trip: %v %v", tc.c, back, err)
		}
	}
}

func TestParseDateIsACalendarDateWithoutZone(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"2026-03-08", false},
		{"2024-02-29", false},
		{"2025-02-29", true},
		{"2026-13-01", true},
		{"2026-3-8", true},
		{"08/03/2026", true},
		{"2026-03-08T00:00:00Z", true},
		{"", true},
	}
	for _, tc := range tests {
		d, err := ParseDate(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseDate(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (d.Location() != time.UTC || d.Format(time.DateOnly) != tc.in || d.Hour() != 0) {
			t.Errorf("ParseDate(%q) = %v, want UTC midnight of that date", tc.in, d)
		}
	}
}

func TestSubtractLeavesTheOpenPartsOfEachWindow(t *testing.T) {
	iv := func(a, b Clock) [2]Clock { return [2]Clock{a * 60, b * 60} }
	tests := []struct {
		name    string
		windows [][2]Clock
		busy    [][2]Clock
		want    [][2]Clock
	}{
		{"nothing busy", [][2]Clock{iv(9, 12)}, nil, [][2]Clock{iv(9, 12)}},
		{"no windows", nil, [][2]Clock{iv(9, 10)}, nil},
		{"busy in the middle splits", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(10, 11)}, [][2]Clock{iv(9, 10), iv(11, 12)}},
		{"busy at the start", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(9, 10)}, [][2]Clock{iv(10, 12)}},
		{"busy at the end", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(11, 12)}, [][2]Clock{iv(9, 11)}},
		{"busy covers the window", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(8, 13)}, nil},
		{"busy outside touches nothing", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(7, 9), iv(12, 13)}, [][2]Clock{iv(9, 12)}},
		{"overlapping busy intervals", [][2]Clock{iv(9, 17)}, [][2]Clock{iv(10, 12), iv(11, 13), iv(15, 16)},
			[][2]Clock{iv(9, 10), iv(13, 15), iv(16, 17)}},
		{"busy inside an earlier busy", [][2]Clock{iv(9, 17)}, [][2]Clock{iv(10, 14), iv(11, 12)},
			[][2]Clock{iv(9, 10), iv(14, 17)}},
		{"one busy spans two windows", [][2]Clock{iv(9, 11), iv(13, 15)}, [][2]Clock{iv(10, 14)},
			[][2]Clock{iv(9, 10), iv(14, 15)}},
		{"back-to-back busy leaves no sliver", [][2]Clock{iv(9, 12)}, [][2]Clock{iv(9, 10), iv(10, 11), iv(11, 12)}, nil},
		{"quarter-hour edges", [][2]Clock{{9 * 60, 10 * 60}}, [][2]Clock{{9*60 + 15, 9*60 + 45}},
			[][2]Clock{{9 * 60, 9*60 + 15}, {9*60 + 45, 10 * 60}}},
		{"until midnight", [][2]Clock{iv(22, 24)}, [][2]Clock{iv(23, 24)}, [][2]Clock{iv(22, 23)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Subtract(tc.windows, tc.busy); !slices.Equal(got, tc.want) {
				t.Errorf("Subtract = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLocalInstantIsDSTCorrectInNewYork(t *testing.T) {
	ny, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		t.Fatalf("load %s: %v", DefaultTimezone, err)
	}
	tests := []struct {
		name    string
		date    string
		clock   string
		want    string // UTC, RFC 3339
		wantErr bool
	}{
		{"winter is UTC-5", "2026-01-15", "09:00", "2026-01-15T14:00:00Z", false},
		{"summer is UTC-4", "2026-07-15", "09:00", "2026-07-15T13:00:00Z", false},
		{"before spring-forward", "2026-03-08", "01:45", "2026-03-08T06:45:00Z", false},
		{"spring-forward gap does not exist", "2026-03-08", "02:00", "", true},
		{"last quarter of the gap does not exist", "2026-03-08", "02:45", "", true},
		{"after spring-forward", "2026-03-08", "03:00", "2026-03-08T07:00:00Z", false},
		{"fall-back hour takes its first occurrence", "2026-11-01", "01:30", "2026-11-01T05:30:00Z", false},
		{"after fall-back", "2026-11-01", "02:00", "2026-11-01T07:00:00Z", false},
		{"24:00 is the next midnight", "2026-03-08", "24:00", "2026-03-09T04:00:00Z", false},
		{"midnight", "2026-11-01", "00:00", "2026-11-01T04:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDate(tc.date)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseClock(tc.clock)
			if err != nil {
				t.Fatal(err)
			}
			got, err := LocalInstant(d, c, ny)
			if (err != nil) != tc.wantErr {
				t.Fatalf("LocalInstant error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && got.UTC().Format(time.RFC3339) != tc.want {
				t.Errorf("LocalInstant = %s, want %s", got.UTC().Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestLessonsAcrossDSTLastTheirWallClockLength(t *testing.T) {
	ny, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		t.Fatal(err)
	}
	// 01:00–03:00 on spring-forward day is one real hour; on fall-back day three.
	tests := []struct {
		date string
		want time.Duration
	}{
		{"2026-03-08", time.Hour},
		{"2026-11-01", 3 * time.Hour},
		{"2026-06-01", 2 * time.Hour},
	}
	for _, tc := range tests {
		d, _ := ParseDate(tc.date)
		start, err1 := LocalInstant(d, 60, ny)
		end, err2 := LocalInstant(d, 180, ny)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", tc.date, err1, err2)
		}
		if got := end.Sub(start); got != tc.want {
			t.Errorf("%s 01:00–03:00 lasts %v, want %v", tc.date, got, tc.want)
		}
	}
}
