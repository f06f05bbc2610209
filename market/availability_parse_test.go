package market

import (
	"fmt"
	"testing"
)

func TestParseWindowsValidatesAndSorts(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		in     []WindowInput
		want   string // the valid windows
		fields string // the problems
	}{
		{name: "sorted by start", prefix: "days[0].", in: []WindowInput{{"13:00", "15:00"}, {"09:00", "12:00"}},
			want: "[[09:00 12:00] [13:00 15:00]]", fields: "map[]"},
		{name: "touching windows are fine", prefix: "days[0].", in: []WindowInput{{"09:00", "10:00"}, {"10:00", "11:00"}},
			want: "[[09:00 10:00] [10:00 11:00]]", fields: "map[]"},
		{name: "up to 24:00", in: []WindowInput{{"22:00", "24:00"}}, want: "[[22:00 24:00]]", fields: "map[]"},
		{name: "overlap is named by the later window", prefix: "days[1].", in: []WindowInput{{"09:00", "11:00"}, {"10:00", "12:00"}},
			want: "[[09:00 11:00]]", fields: "map[days[1].windows[1]:overlaps another window on the same day]"},
		{name: "single window field names", in: []WindowInput{{"09:10", "10:00"}},
			want: "[]", fields: "map[start:must be on a 15-minute boundary]"},
		{name: "start at 24:00", in: []WindowInput{{"24:00", "24:00"}}, want: "[]", fields: "map[start:must be before 24:00]"},
		{name: "end before start", in: []WindowInput{{"10:00", "09:00"}}, want: "[]", fields: "map[end:must be after start]"},
		{name: "empty window", in: []WindowInput{{"10:00", "10:00"}}, want: "[]", fields: "map[end:must be after start]"},
		{name: "end misaligned", in: []WindowInput{{"10:00", "10:20"}}, want: "[]", fields: "map[end:must be on a 15-minute boundary]"},
		{name: "not a time", prefix: "days[0].", in: []WindowInput{{"9am", "10:00"}},
			want: "[]", fields: "map[days[0].windows[0].start:must be a time HH:MM]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]string{}
			got := ParseWindows(tc.in, tc.prefix, fields)
			if fmt.Sprint(got) != tc.want || fmt.Sprint(fields) != tc.fields {
				t.Fatalf("ParseWindows = %v %v, want %s %s", got, fields, tc.want, tc.fields)
			}
		})
	}
}
