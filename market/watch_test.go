package market

import (
	"reflect"
	"testing"
	"time"
)

func todPtr(s string) *string { return &s }

func TestWatchInputValidateNamesEachBadField(t *testing.T) {
	today := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC) // a Tuesday
	ok := WatchInput{InstructorID: "x", From: "2026-12-08", To: "2026-12-31"}
	tests := []struct {
		name    string
		edit    func(*WatchInput)
		field   string // "" = valid
		wantDay []time.Weekday
	}{
		{"any day, whole day", func(*WatchInput) {}, "", nil},
		{"saturday mornings", func(w *WatchInput) { w.Days, w.TimeOfDay = []string{"saturday"}, todPtr("morning") }, "", []time.Weekday{time.Saturday}},
		{"days sorted, any case", func(w *WatchInput) { w.Days = []string{"Sunday", "monday"} }, "", []time.Weekday{time.Sunday, time.Monday}},
		{"unknown day", func(w *WatchInput) { w.Days = []string{"someday"} }, "days", nil},
		{"repeated day", func(w *WatchInput) { w.Days = []string{"monday", "monday"} }, "days", nil},
		{"unknown part of day", func(w *WatchInput) { w.TimeOfDay = todPtr("noon") }, "time_of_day", nil},
		{"from yesterday", func(w *WatchInput) { w.From = "2026-12-07" }, "from", nil},
		{"from malformed", func(w *WatchInput) { w.From = "12/08/2026" }, "from", nil},
		{"to before from", func(w *WatchInput) { w.To = "2026-12-07" }, "to", nil},
		{"to malformed", func(w *WatchInput) { w.To = "soon" }, "to", nil},
		{"exactly 60 days", func(w *WatchInput) { w.To = "2027-02-05" }, "", nil},
		{"61 days", func(w *WatchInput) { w.To = "2027-02-06" }, "to", nil},
		{"one day, today", func(w *WatchInput) { w.To = "2026-12-08" }, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			s, err := in.Validate(today)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if !reflect.DeepEqual(s.Days, tc.wantDay) {
					t.Fatalf("days %v, want %v", s.Days, tc.wantDay)
				}
				return
			}
			e, isErr := err.(*Error)
			if !isErr || e.Code != EVALIDATION || e.Details[tc.field] == nil {
				t.Fatalf("want a validation error on %s, got %v", tc.field, err)
			}
		})
	}
}

func TestOpenedIsWhatAfterHasThatBeforeHadNot(t *testing.T) {
	iv := func(s, e string) Interval { return Interval{Start: s, End: e} }
	tests := []struct {
		name          string
		before, after []Interval
		want          []Interval
	}{
		{"a cancellation frees an hour", []Interval{iv("09:00", "10:00"), iv("11:00", "12:00")},
			[]Interval{iv("09:00", "12:00")}, []Interval{iv("10:00", "11:00")}},
		{"a new window", nil, []Interval{iv("14:00", "16:00")}, []Interval{iv("14:00", "16:00")}},
		{"a booking opens nothing", []Interval{iv("09:00", "12:00")}, []Interval{iv("09:00", "10:00")}, []Interval{}},
		{"unchanged", []Interval{iv("09:00", "12:00")}, []Interval{iv("09:00", "12:00")}, []Interval{}},
		{"a window grows at both ends", []Interval{iv("10:00", "11:00")}, []Interval{iv("09:00", "12:00")},
			[]Interval{iv("09:00", "10:00"), iv("11:00", "12:00")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Opened(tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Opened = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWatchMatchesDaysPartOfDayRangeAndLength(t *testing.T) {
	sat := time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC)
	sun := sat.AddDate(0, 0, 1)
	spec := WatchSpec{Days: []time.Weekday{time.Saturday}, TimeOfDay: "morning", From: sat.AddDate(0, 0, -5), To: sat}
	iv := func(s, e string) []Interval { return []Interval{{Start: s, End: e}} }
	tests := []struct {
		name      string
		spec      WatchSpec
		date      time.Time
		opened    []Interval
		notBefore Clock
		want      string // start of the match, "" = none
	}{
		{"saturday morning", spec, sat, iv("10:00", "11:00"), 0, "10:00"},
		{"other day", spec, sun, iv("10:00", "11:00"), 0, ""},
		{"afternoon is not morning", spec, sat, iv("13:00", "15:00"), 0, ""},
		{"starts before morning, runs into it", spec, sat, iv("05:00", "07:00"), 0, "06:00"},
		{"too short inside the morning", spec, sat, iv("05:00", "06:15"), 0, ""},
		{"ends at noon: last start 11:30", spec, sat, iv("11:30", "12:30"), 0, "11:30"},
		{"starts at noon: afternoon", spec, sat, iv("12:00", "13:00"), 0, ""},
		{"after to", spec, sat.AddDate(0, 0, 7), iv("10:00", "11:00"), 0, ""},
		{"before from", spec, sat.AddDate(0, 0, -7), iv("10:00", "11:00"), 0, ""},
		{"already past today", spec, sat, iv("09:00", "10:00"), 9*60 + 40, ""},
		{"rest of today still open", spec, sat, iv("09:00", "11:00"), 9*60 + 40, "09:45"},
		{"any day, whole day", WatchSpec{From: sat, To: sun}, sun, iv("20:00", "21:00"), 0, "20:00"},
		{"evening ends at 23:00", WatchSpec{TimeOfDay: "evening", From: sat, To: sat}, sat, iv("23:00", "24:00"), 0, ""},
		{"second interval matches", spec, sat, []Interval{{"05:00", "05:45"}, {"08:00", "09:00"}}, 0, "08:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.spec.Match(tc.date, tc.opened, tc.notBefore)
			if ok != (tc.want != "") || got.Start != tc.want {
				t.Fatalf("Match = %v %v, want start %q", got, ok, tc.want)
			}
		})
	}
}

func TestTimeOfDayIsTheSearchDefinition(t *testing.T) {
	for _, tod := range append([]string{""}, TimesOfDay...) {
		lo, hi := TimeOfDayRange(tod)
		q := SearchQuery{TimeOfDay: tod}
		if qlo, qhi := q.TimeRange(); lo != qlo || hi != qhi {
			t.Fatalf("%q: %v–%v vs search %v–%v", tod, lo, hi, qlo, qhi)
		}
	}
}

func TestSlotOpenedTextNamesInstructorDayAndTime(t *testing.T) {
	title, body := SlotOpenedText("Sarah Chen", time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC), Interval{Start: "10:00", End: "11:00"})
	if title != "Saturday 10:00 just opened" || body != "Sarah Chen has open time on Sat Dec 12, 10:00–11:00. Book it before someone else does." {
		t.Fatalf("%q / %q", title, body)
	}
}
