package market

import (
	"fmt"
	"testing"
	"time"
)

// lesson is a lesson of minutes at date+start in loc (first occurrence).
func lesson(t *testing.T, loc *time.Location, d, start string, minutes int) Lesson {
	t.Helper()
	day, c := date(t, d), clock(t, start)
	at, err := LocalInstant(day, c, loc)
	if err != nil {
		t.Fatal(err)
	}
	return Lesson{Date: day, Start: c, StartsAt: at, EndsAt: at.Add(time.Duration(minutes) * time.Minute)}
}

func spans(t *testing.T, hhmm ...string) []Span {
	t.Helper()
	out := make([]Span, 0, len(hhmm)/2)
	for i := 0; i+1 < len(hhmm); i += 2 {
		out = append(out, Span{clock(t, hhmm[i]), clock(t, hhmm[i+1])})
	}
	return out
}

func TestBlocksTimeIsEveryStatusButCancelled(t *testing.T) {
	for status, want := range map[string]bool{
		BookingConfirmed: true, BookingCompleted: true, BookingNoShow: true, BookingCancelled: false,
	} {
		if got := BlocksTime(status); got != want {
			t.Errorf("BlocksTime(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestPlaceChecksTheGapAndTheNotice(t *testing.T) {
	ny := newYork(t)
	tests := []struct {
		name, date, start, now string // now: UTC
		minutes                int
		wantErr                string // substring of the start_time detail; "" for success
		wantStart, wantEnd     string // UTC
		wantEndClock           string
	}{
		{name: "ordinary", date: "2026-12-07", start: "10:00", now: "2026-12-01T00:00:00Z", minutes: 60,
			wantStart: "2026-12-07T15:00:00Z", wantEnd: "2026-12-07T16:00:00Z", wantEndClock: "11:00"},
		{name: "exactly the minimum notice", date: "2026-12-07", start: "10:00", now: "2026-12-07T14:00:00Z", minutes: 30,
			wantStart: "2026-12-07T15:00:00Z", wantEnd: "2026-12-07T15:30:00Z", wantEndClock: "10:30"},
		{name: "a minute inside the notice", date: "2026-12-07", start: "10:00", now: "2026-12-07T14:01:00Z", minutes: 30,
			wantErr: "at least 60 minutes from now"},
		{name: "in the past", date: "2026-12-07", start: "10:00", now: "2026-12-08T00:00:00Z", minutes: 30,
			wantErr: "at least 60 minutes from now"},
		{name: "spring-forward gap start does not exist", date: "2027-03-14", start: "02:00", now: "2027-01-01T00:00:00Z", minutes: 60,
			wantErr: "does not exist in America/New_York"},
		{name: "spring-forward gap middle does not exist", date: "2027-03-14", start: "02:30", now: "2027-01-01T00:00:00Z", minutes: 60,
			wantErr: "does not exist in America/New_York"},
		{name: "across the gap: one real hour ends 03:30 EDT", date: "2027-03-14", start: "01:30", now: "2027-01-01T00:00:00Z", minutes: 60,
			wantStart: "2027-03-14T06:30:00Z", wantEnd: "2027-03-14T07:30:00Z", wantEndClock: "03:30"},
		{name: "fall-back: first occurrence, ends in the repeat", date: "2026-11-01", start: "01:30", now: "2026-10-01T00:00:00Z", minutes: 60,
			wantStart: "2026-11-01T05:30:00Z", wantEnd: "2026-11-01T06:30:00Z", wantEndClock: "01:30"},
		{name: "past midnight ends at 24:00", date: "2026-12-07", start: "23:30", now: "2026-12-01T00:00:00Z", minutes: 60,
			wantStart: "2026-12-08T04:30:00Z", wantEnd: "2026-12-08T05:30:00Z", wantEndClock: "24:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Place(date(t, tc.date), clock(t, tc.start), tc.minutes, ny, utc(t, tc.now))
			if tc.wantErr != "" {
				e, ok := err.(*Error)
				if !ok || e.Code != EVALIDATION || !containsStr(fmt.Sprint(e.Details["start_time"]), tc.wantErr) {
					t.Fatalf("Place error %v, want EVALIDATION with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Place: %v", err)
			}
			if !p.StartsAt.Equal(utc(t, tc.wantStart)) || !p.EndsAt.Equal(utc(t, tc.wantEnd)) || p.End.String() != tc.wantEndClock {
				t.Fatalf("Place = %s–%s (end %s), want %s–%s (end %s)", p.StartsAt.UTC(), p.EndsAt.UTC(), p.End, tc.wantStart, tc.wantEnd, tc.wantEndClock)
			}
		})
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestCheckSlotWindowsAdjacencyAndOverlap(t *testing.T) {
	ny := newYork(t)
	const day = "2026-12-07"
	now := utc(t, "2026-10-01T00:00:00Z") // before every date below
	tests := []struct {
		name        string
		day, start  string
		minutes     int
		windows     []Span
		instructor  []Lesson
		student     []Lesson
		wantMessage string // "" for fits
	}{
		{name: "inside a window", day: day, start: "10:00", minutes: 60, windows: spans(t, "09:00", "12:00")},
		{name: "exactly the window", day: day, start: "09:00", minutes: 180, windows: spans(t, "09:00", "12:00")},
		{name: "ends at the window's end", day: day, start: "11:00", minutes: 60, windows: spans(t, "09:00", "12:00")},
		{name: "starts before the window", day: day, start: "08:45", minutes: 60, windows: spans(t, "09:00", "12:00"), wantMessage: MsgNotInWindow},
		{name: "ends after the window", day: day, start: "11:15", minutes: 60, windows: spans(t, "09:00", "12:00"), wantMessage: MsgNotInWindow},
		{name: "no windows", day: day, start: "10:00", minutes: 60, wantMessage: MsgNotInWindow},
		{name: "across two adjacent windows is not inside one", day: day, start: "09:30", minutes: 60,
			windows: spans(t, "09:00", "10:00", "10:00", "11:00"), wantMessage: MsgNotInWindow},
		{name: "the second of two windows", day: day, start: "14:00", minutes: 60, windows: spans(t, "09:00", "10:00", "13:00", "15:00")},
		{name: "up to 24:00", day: day, start: "23:00", minutes: 60, windows: spans(t, "22:00", "24:00")},
		{name: "past 24:00 is outside", day: day, start: "23:30", minutes: 60, windows: spans(t, "22:00", "24:00"), wantMessage: MsgNotInWindow},
		{name: "adjacent: instructor lesson ends 10:00, this starts 10:00", day: day, start: "10:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), instructor: []Lesson{lesson(t, ny, day, "09:00", 60)}},
		{name: "adjacent: this ends 10:00, instructor lesson starts 10:00", day: day, start: "09:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), instructor: []Lesson{lesson(t, ny, day, "10:00", 60)}},
		{name: "adjacent on both sides", day: day, start: "10:00", minutes: 60, windows: spans(t, "09:00", "12:00"),
			instructor: []Lesson{lesson(t, ny, day, "09:00", 60), lesson(t, ny, day, "11:00", 60)}},
		{name: "adjacent to the student's lesson", day: day, start: "10:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), student: []Lesson{lesson(t, ny, day, "09:00", 60)}},
		{name: "overlaps the instructor's lesson by 15 minutes", day: day, start: "10:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), instructor: []Lesson{lesson(t, ny, day, "09:15", 60)}, wantMessage: MsgInstructorBusy},
		{name: "inside the instructor's lesson", day: day, start: "10:00", minutes: 30,
			windows: spans(t, "09:00", "12:00"), instructor: []Lesson{lesson(t, ny, day, "09:00", 120)}, wantMessage: MsgInstructorBusy},
		{name: "overlaps the student's lesson elsewhere", day: day, start: "10:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), student: []Lesson{lesson(t, ny, day, "10:45", 30)}, wantMessage: MsgStudentBusy},
		{name: "the window is checked before the lessons", day: day, start: "08:00", minutes: 60,
			windows: spans(t, "09:00", "12:00"), instructor: []Lesson{lesson(t, ny, day, "08:00", 60)}, wantMessage: MsgNotInWindow},
		{name: "the instructor is checked before the student", day: day, start: "10:00", minutes: 60, windows: spans(t, "09:00", "12:00"),
			instructor: []Lesson{lesson(t, ny, day, "10:00", 60)}, student: []Lesson{lesson(t, ny, day, "10:00", 60)}, wantMessage: MsgInstructorBusy},
		{name: "a lesson of the day before running past midnight", day: day, start: "00:00", minutes: 60,
			windows: spans(t, "00:00", "02:00"), instructor: []Lesson{lesson(t, ny, "2026-12-06", "23:30", 60)}, wantMessage: MsgInstructorBusy},
		// Spring forward: 00:00–02:00 ends at 03:00 EDT, one real hour after 01:00 EST.
		{name: "spring forward: 01:00 for an hour fits a window ending 02:00", day: "2027-03-14", start: "01:00", minutes: 60,
			windows: spans(t, "00:00", "02:00")},
		{name: "spring forward: 01:30 for an hour overruns a window ending 02:00", day: "2027-03-14", start: "01:30", minutes: 60,
			windows: spans(t, "00:00", "02:00"), wantMessage: MsgNotInWindow},
		{name: "spring forward: 03:00 starts a window beginning inside the gap", day: "2027-03-14", start: "03:00", minutes: 60,
			windows: spans(t, "02:30", "05:00")},
		{name: "spring forward: adjacent across the gap", day: "2027-03-14", start: "03:00", minutes: 60,
			windows: spans(t, "00:00", "05:00"), instructor: []Lesson{lesson(t, ny, "2027-03-14", "01:00", 60)}},
		{name: "spring forward: overlap across the gap", day: "2027-03-14", start: "03:00", minutes: 60,
			windows: spans(t, "00:00", "05:00"), instructor: []Lesson{lesson(t, ny, "2027-03-14", "01:30", 60)}, wantMessage: MsgInstructorBusy},
		// Fall back: 00:00–02:00 holds three real hours (02:00 is EST).
		{name: "fall back: three hours fit 00:00–02:00", day: "2026-11-01", start: "00:00", minutes: 180,
			windows: spans(t, "00:00", "02:00")},
		{name: "fall back: 01:30 for an hour fits 01:00–02:00", day: "2026-11-01", start: "01:30", minutes: 60,
			windows: spans(t, "01:00", "02:00")},
		{name: "fall back: adjacent inside the repeated hour", day: "2026-11-01", start: "01:00", minutes: 60,
			windows: spans(t, "00:00", "03:00"), instructor: []Lesson{lesson(t, ny, "2026-11-01", "00:00", 60)}},
		{name: "fall back: overlap inside the repeated hour", day: "2026-11-01", start: "01:30", minutes: 30,
			windows: spans(t, "00:00", "03:00"), instructor: []Lesson{lesson(t, ny, "2026-11-01", "01:00", 60)}, wantMessage: MsgInstructorBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Place(date(t, tc.day), clock(t, tc.start), tc.minutes, ny, now)
			if err != nil {
				t.Fatalf("Place: %v", err)
			}
			err = CheckSlot(p, SlotFacts{Windows: tc.windows, Instructor: tc.instructor, Student: tc.student}, ny)
			if tc.wantMessage == "" {
				if err != nil {
					t.Fatalf("CheckSlot refused a fitting slot: %v", err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Code != ESLOTUNAVAIL || e.Message != tc.wantMessage {
				t.Fatalf("CheckSlot = %v, want %s %q", err, ESLOTUNAVAIL, tc.wantMessage)
			}
		})
	}
}

func TestOpenTimeIsWindowsMinusTheDaysLessons(t *testing.T) {
	ny := newYork(t)
	const day = "2026-12-07"
	tests := []struct {
		name    string
		day     string
		windows []Span
		lessons []Lesson
		want    string
	}{
		{name: "no lessons", day: day, windows: spans(t, "09:00", "12:00"), want: "[{09:00 12:00}]"},
		{name: "adjacent lessons leave no sliver", day: day, windows: spans(t, "09:00", "12:00"),
			lessons: []Lesson{lesson(t, ny, day, "10:00", 60), lesson(t, ny, day, "09:00", 60)}, want: "[{11:00 12:00}]"},
		{name: "unsorted windows and lessons", day: day, windows: spans(t, "14:00", "16:00", "09:00", "12:00"),
			lessons: []Lesson{lesson(t, ny, day, "15:00", 30), lesson(t, ny, day, "10:00", 30)},
			want:    "[{09:00 10:00} {10:30 12:00} {14:00 15:00} {15:30 16:00}]"},
		{name: "other days' lessons are ignored", day: day, windows: spans(t, "09:00", "12:00"),
			lessons: []Lesson{lesson(t, ny, "2026-12-08", "10:00", 60)}, want: "[{09:00 12:00}]"},
		{name: "lesson outside the windows", day: day, windows: spans(t, "09:00", "12:00"),
			lessons: []Lesson{lesson(t, ny, day, "13:00", 60)}, want: "[{09:00 12:00}]"},
		{name: "spring forward: 01:30 for an hour takes 01:30–03:30", day: "2027-03-14", windows: spans(t, "00:00", "24:00"),
			lessons: []Lesson{lesson(t, ny, "2027-03-14", "01:30", 60)}, want: "[{00:00 01:30} {03:30 24:00}]"},
		{name: "fall back: 01:30 for an hour takes 01:30–02:00", day: "2026-11-01", windows: spans(t, "00:00", "24:00"),
			lessons: []Lesson{lesson(t, ny, "2026-11-01", "01:30", 60)}, want: "[{00:00 01:30} {02:00 24:00}]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(OpenTime(date(t, tc.day), tc.windows, tc.lessons, ny)); got != tc.want {
				t.Fatalf("OpenTime = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNoticeRulesForCancelAndMove(t *testing.T) {
	start := utc(t, "2026-12-08T15:00:00Z")
	tests := []struct {
		name      string
		byStudent bool
		hours     int
		now       string
		wantLate  bool
	}{
		{"student, exactly at the notice edge", true, 24, "2026-12-07T15:00:00Z", false},
		{"student, a minute inside the notice", true, 24, "2026-12-07T15:01:00Z", true},
		{"student, well before", true, 24, "2026-12-01T00:00:00Z", false},
		{"student, no notice", true, 0, "2026-12-08T14:59:00Z", false},
		{"instructor inside the notice", false, 24, "2026-12-08T14:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := utc(t, tc.now)
			if got := LateCancel(tc.byStudent, start, tc.hours, now); got != tc.wantLate {
				t.Errorf("LateCancel = %v, want %v", got, tc.wantLate)
			}
			err := CheckMoveNotice(tc.byStudent, start, tc.hours, now)
			if !tc.wantLate {
				if err != nil {
					t.Fatalf("CheckMoveNotice refused: %v", err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Code != EINSIDENOTICE || e.Details["cancellation_notice_hours"] != tc.hours {
				t.Fatalf("CheckMoveNotice = %v, want %s with the hours", err, EINSIDENOTICE)
			}
		})
	}
}

func TestCheckChangeableOnlyBeforeAConfirmedLessonStarts(t *testing.T) {
	start := utc(t, "2026-12-08T15:00:00Z")
	tests := []struct {
		name, status string
		now          time.Time
		wantErr      bool
	}{
		{"confirmed, before the start", BookingConfirmed, start.Add(-time.Minute), false},
		{"confirmed, at the start", BookingConfirmed, start, true},
		{"cancelled", BookingCancelled, start.Add(-time.Hour), true},
		{"completed", BookingCompleted, start.Add(-time.Hour), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckChangeable(&Booking{Status: tc.status, StartsAt: start}, tc.now)
			if (err != nil) != tc.wantErr || (err != nil && ErrorCode(err) != ECONFLICT) {
				t.Fatalf("CheckChangeable = %v, want error %v (%s)", err, tc.wantErr, ECONFLICT)
			}
		})
	}
}

func TestCheckInstructorRefusesUnknownRolelessAndUnverified(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    InstructorFacts
		want string
	}{
		{"bookable", InstructorFacts{Live: true, IsInstructor: true, Verified: true}, ""},
		{"unverified email", InstructorFacts{Live: true, IsInstructor: true}, EINSTRUCTORUNAVAIL},
		{"unverified, load-test switch on", InstructorFacts{Live: true, IsInstructor: true, AllowUnverified: true}, ""},
		{"the switch does not lift the role rule", InstructorFacts{Live: true, AllowUnverified: true}, ENOTFOUND},
		{"role revoked", InstructorFacts{Live: true, Verified: true}, ENOTFOUND},
		{"role revoked and unverified", InstructorFacts{Live: true}, ENOTFOUND},
		{"unknown or deleted", InstructorFacts{}, EVALIDATION},
		{"unknown beats every other fact", InstructorFacts{IsInstructor: true, Verified: true}, EVALIDATION},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(CheckInstructor(tc.f)); got != tc.want {
				t.Fatalf("CheckInstructor(%+v) = %q, want %q", tc.f, got, tc.want)
			}
		})
	}
}
