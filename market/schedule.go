package market

import (
	"fmt"
	"time"
)

// Schedule decisions. The store reads the facts (windows, the bookings
// that block time, the clock) in one batch under the instructor's schedule
// lock, calls these functions, and writes what they decide. Nothing here
// reads a database; the exclusion constraints on bookings stay the last
// line of defence for what these functions already refuse.

// BlocksTime reports whether a booking in status takes its time from the
// instructor's open time and from new bookings of either party. Every
// status but cancelled does: a completed or no-show lesson keeps its hours
// taken, so the completion job never makes past time look open again
// without an event. The exclusion constraints guard status = 'confirmed'
// only; the two agree on every bookable instant, because a lesson becomes
// completed or no_show only after it has ended, and a new booking starts at
// least MinNotice after now.
func BlocksTime(status string) bool { return status != BookingCancelled }

// Messages of the slot refusals (ESLOTUNAVAIL), the same the store gives
// when an exclusion constraint refuses the write.
const (
	MsgNotInWindow    = "the instructor is not available at that time"
	MsgInstructorBusy = "that time is no longer available"
	MsgStudentBusy    = "you already have a lesson at that time"
)

// Lesson is a booking as the schedule sees it: where it sits on its local
// date and the instants it covers.
type Lesson struct {
	Date             time.Time // local calendar date (UTC midnight)
	Start            Clock     // local wall start on Date
	StartsAt, EndsAt time.Time
}

// Busy is the wall-clock span of l's date that l covers (BusySpan).
func (l Lesson) Busy(loc *time.Location) Span {
	return BusySpan(l.Date, l.Start, l.StartsAt, l.EndsAt, loc)
}

// Overlaps reports whether l and [startsAt, endsAt) share an instant.
// Half-open: a lesson ending 10:00 and one starting 10:00 do not overlap.
func (l Lesson) Overlaps(startsAt, endsAt time.Time) bool {
	return l.StartsAt.Before(endsAt) && startsAt.Before(l.EndsAt)
}

// Placement is a validated local date and start with its DST-correct
// instants and its wall end on the date (24:00 for the next midnight or
// later).
type Placement struct {
	Date             time.Time
	Start, End       Clock
	StartsAt, EndsAt time.Time
}

// Lesson is p as a Lesson.
func (p Placement) Lesson() Lesson {
	return Lesson{Date: p.Date, Start: p.Start, StartsAt: p.StartsAt, EndsAt: p.EndsAt}
}

// Place computes the instants of a lesson of minutes real minutes starting
// at date+start in loc, and checks the booking notice (MinNotice from now).
// A wall time that does not exist (spring-forward gap) is EVALIDATION
// rather than being silently moved by an hour; an ambiguous one (fall-back)
// is its first occurrence.
func Place(date time.Time, start Clock, minutes int, loc *time.Location, now time.Time) (Placement, error) {
	startsAt, err := LocalInstant(date, start, loc)
	if err != nil {
		return Placement{}, ValidationError(map[string]string{
			"start_time": fmt.Sprintf("%s %s does not exist in %s (daylight saving time change)", date.Format(time.DateOnly), start, loc)})
	}
	if startsAt.Before(now.Add(MinNotice)) {
		return Placement{}, ValidationError(map[string]string{
			"start_time": fmt.Sprintf("must be at least %d minutes from now", int(MinNotice/time.Minute))})
	}
	endsAt := startsAt.Add(time.Duration(minutes) * time.Minute)
	return Placement{Date: date, Start: start, End: wallEnd(date, endsAt, loc),
		StartsAt: startsAt, EndsAt: endsAt}, nil
}

// InstructorFacts is what deciding whether an instructor may be booked at
// all needs, read under the schedule lock with the instructor's profile.
type InstructorFacts struct {
	Live         bool // a profile of a live (not deleted) user exists
	IsInstructor bool // the user still holds the instructor role
	Verified     bool // the user has opened their email verification link
	// AllowUnverified lifts the Verified rule (ALLOW_UNVERIFIED_BOOKING,
	// load tests; NewBooking.AllowUnverifiedInstructor).
	AllowUnverified bool
}

// CheckInstructor decides whether the instructor of f may be booked: an
// unknown or deleted one is EVALIDATION on instructor_id, one without the
// role ENOTFOUND (as the public reads), and one whose email address is not
// verified EINSTRUCTORUNAVAIL (they are not listed or searchable either).
// Checked in that order; nil when bookable.
func CheckInstructor(f InstructorFacts) error {
	switch {
	case !f.Live:
		return ValidationError(map[string]string{"instructor_id": "no such instructor"})
	case !f.IsInstructor:
		return Errorf(ENOTFOUND, "instructor not found")
	case !f.Verified && !f.AllowUnverified:
		return Errorf(EINSTRUCTORUNAVAIL, "this instructor is not taking bookings yet")
	}
	return nil
}

// SlotFacts is what deciding a slot needs, read under the schedule lock.
type SlotFacts struct {
	Windows    []Span   // the instructor's windows on the placement's date
	Instructor []Lesson // the instructor's time-blocking lessons near it
	Student    []Lesson // the student's time-blocking lessons near it
}

// CheckSlot decides whether p may be booked: it must lie inside one window
// (boundaries as WallInstant places them) and overlap none of the
// instructor's or the student's lessons (the lesson being moved left out
// by the caller). The first failing rule is returned as ESLOTUNAVAIL, in
// that order; nil when p fits.
func CheckSlot(p Placement, f SlotFacts, loc *time.Location) error {
	if !InsideWindow(p, f.Windows, loc) {
		return &Error{Code: ESLOTUNAVAIL, Message: MsgNotInWindow}
	}
	for _, l := range f.Instructor {
		if l.Overlaps(p.StartsAt, p.EndsAt) {
			return &Error{Code: ESLOTUNAVAIL, Message: MsgInstructorBusy}
		}
	}
	for _, l := range f.Student {
		if l.Overlaps(p.StartsAt, p.EndsAt) {
			return &Error{Code: ESLOTUNAVAIL, Message: MsgStudentBusy}
		}
	}
	return nil
}

// InsideWindow reports whether p lies wholly inside one of windows (spans
// of p's date), compared in real time so DST days follow the clock.
func InsideWindow(p Placement, windows []Span, loc *time.Location) bool {
	for _, w := range windows {
		if !p.StartsAt.Before(WallInstant(p.Date, w[0], loc)) && !p.EndsAt.After(WallInstant(p.Date, w[1], loc)) {
			return true
		}
	}
	return false
}

// OpenTime is the open time of date: windows minus the wall spans of the
// lessons on date (lessons of other dates are ignored), as intervals. It is
// the one definition of open time for answers and events.
func OpenTime(date time.Time, windows []Span, lessons []Lesson, loc *time.Location) []Interval {
	busy := make([]Span, 0, len(lessons))
	for _, l := range lessons {
		if l.Date.Equal(date) {
			busy = append(busy, l.Busy(loc))
		}
	}
	return Intervals(Subtract(windows, busy))
}

// Intervals formats spans as intervals.
func Intervals(spans []Span) []Interval {
	out := make([]Interval, 0, len(spans))
	for _, s := range spans {
		out = append(out, Interval{Start: s[0].String(), End: s[1].String()})
	}
	return out
}

// CheckChangeable refuses (ECONFLICT) a cancellation or move of b unless
// it is a confirmed lesson that has not started at now.
func CheckChangeable(b *Booking, now time.Time) error {
	if b.Status != BookingConfirmed {
		return Errorf(ECONFLICT, "booking is %s", b.Status)
	}
	if !b.StartsAt.After(now) {
		return Errorf(ECONFLICT, "lesson has already started")
	}
	return nil
}

// LateCancel reports whether a cancellation at now is late: by the student
// (byStudent) of a lesson starting inside the instructor's notice. It is
// allowed, only marked, so the instructor is told.
func LateCancel(byStudent bool, startsAt time.Time, noticeHours int, now time.Time) bool {
	return byStudent && insideNotice(startsAt, noticeHours, now)
}

// CheckMoveNotice refuses (EINSIDENOTICE) a student's move of a lesson
// starting inside the instructor's cancellation notice: moving it would
// dodge the late mark a cancellation gets. Instructors and admins
// (byStudent false) may still move it.
func CheckMoveNotice(byStudent bool, startsAt time.Time, noticeHours int, now time.Time) error {
	if !byStudent || !insideNotice(startsAt, noticeHours, now) {
		return nil
	}
	return &Error{Code: EINSIDENOTICE,
		Message: fmt.Sprintf("the lesson starts within the instructor's %d-hour cancellation notice: it can no longer be moved, only cancelled (a late cancellation)", noticeHours),
		Details: map[string]any{"cancellation_notice_hours": noticeHours}}
}

func insideNotice(startsAt time.Time, hours int, now time.Time) bool {
	return startsAt.Add(-time.Duration(hours) * time.Hour).Before(now)
}
