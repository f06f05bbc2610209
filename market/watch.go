package market

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Watches ("tell me when a time opens", SPEC §4.3): a user asks to hear
// when an instructor's open time grows on some days, parts of day and
// dates. The rules here are pure; the store finds what opened from each
// committed availability.changed event (store/watches.go) and the job
// worker writes the notification.

// Watch limits and the notification kind.
const (
	// MaxWatchDays is how many calendar days one watch may cover, from and
	// to included.
	MaxWatchDays = 60
	// MaxActiveWatches is how many watches one user may have that have not
	// ended (to on or after today).
	MaxActiveWatches = 20
	// WatchNotifyEvery is the least time between two slot.opened
	// notifications of one watch (enforced by the database:
	// watches.last_notified_at and a conditional UPDATE).
	WatchNotifyEvery = time.Hour
	// MinOpenedMinutes is the least newly open time worth telling: shorter
	// gaps fit no lesson.
	MinOpenedMinutes = 30
	// NotifySlotOpened is the notification kind sent to a watcher.
	NotifySlotOpened = "slot.opened"
	// PermWatchesManage lets a user create, list and delete their watches.
	PermWatchesManage = "watches:manage"
)

// weekdayNames are the API's names of days, indexed by time.Weekday.
var weekdayNames = [...]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// TimesOfDay are the parts of day a watch may name; their hours are the
// search's (SearchQuery.TimeRange), so "morning" means one thing everywhere.
var TimesOfDay = []string{"morning", "afternoon", "evening"}

// TimeOfDayRange is the local [start, end) in which a lesson starts in
// part of day tod ("" = the whole day): the search's definition.
func TimeOfDayRange(tod string) (Clock, Clock) {
	return (&SearchQuery{TimeOfDay: tod}).TimeRange()
}

// Watch is one stored watch, as GET /watches lists it.
type Watch struct {
	ID             string     `json:"id"`
	UserID         string     `json:"-"`
	InstructorID   string     `json:"instructor_id"`
	Instructor     Party      `json:"instructor"`
	Days           []string   `json:"days"`
	TimeOfDay      *string    `json:"time_of_day"`
	From           string     `json:"from"`
	To             string     `json:"to"`
	CreatedAt      time.Time  `json:"created_at"`
	LastNotifiedAt *time.Time `json:"last_notified_at"`
}

// WatchInput is the body of POST /watches.
type WatchInput struct {
	InstructorID string   `json:"instructor_id" validate:"required,uuid"`
	Days         []string `json:"days" validate:"max=7"`
	TimeOfDay    *string  `json:"time_of_day"`
	From         string   `json:"from" validate:"required"`
	To           string   `json:"to" validate:"required"`
}

// WatchSpec is a validated watch: what it matches.
type WatchSpec struct {
	Days      []time.Weekday // empty: every day
	TimeOfDay string         // "" = the whole day
	From, To  time.Time      // calendar dates (UTC midnights), inclusive
}

// Validate checks in as of today (the instructor's local date, UTC
// midnight) and returns what it matches: days are distinct weekday names
// (lowercase, empty = any day), time_of_day is null or one of TimesOfDay,
// from ≤ to, from not before today, and the range covers at most
// MaxWatchDays. Returns EVALIDATION with a detail per bad field. That the
// instructor exists is the store's check.
func (in WatchInput) Validate(today time.Time) (WatchSpec, error) {
	fields := map[string]string{}
	var s WatchSpec
	days, err := ParseWeekdays(in.Days)
	if err != nil {
		fields["days"] = err.Error()
	}
	s.Days = days
	if in.TimeOfDay != nil {
		if !slices.Contains(TimesOfDay, *in.TimeOfDay) {
			fields["time_of_day"] = "must be morning, afternoon, evening or null"
		}
		s.TimeOfDay = *in.TimeOfDay
	}
	var errFrom, errTo error
	s.From, errFrom = ParseDate(in.From)
	s.To, errTo = ParseDate(in.To)
	switch {
	case errFrom != nil:
		fields["from"] = "must be a date YYYY-MM-DD"
	case s.From.Before(today):
		fields["from"] = "must not be in the past"
	}
	switch {
	case errTo != nil:
		fields["to"] = "must be a date YYYY-MM-DD"
	case errFrom == nil && s.To.Before(s.From):
		fields["to"] = "must not be before from"
	case errFrom == nil && daysSpanned(s.From, s.To) > MaxWatchDays:
		fields["to"] = fmt.Sprintf("a watch covers at most %d days", MaxWatchDays)
	}
	if len(fields) > 0 {
		return WatchSpec{}, ValidationError(fields)
	}
	return s, nil
}

// ParseWeekdays parses distinct weekday names (any case) and returns them
// sorted Sunday first.
func ParseWeekdays(names []string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, d := range names {
		i := slices.Index(weekdayNames[:], strings.ToLower(d))
		if i < 0 {
			return nil, errors.New("each day must be a weekday name, e.g. \"saturday\"")
		}
		if slices.Contains(out, time.Weekday(i)) {
			return nil, errors.New("days must not repeat")
		}
		out = append(out, time.Weekday(i))
	}
	slices.Sort(out)
	return out, nil
}

// daysSpanned counts the calendar dates from..to, both included.
func daysSpanned(from, to time.Time) int { return int(to.Sub(from).Hours()/24+0.5) + 1 }

// DayNames are the API names of days, in order.
func DayNames(days []time.Weekday) []string {
	out := make([]string, 0, len(days))
	for _, d := range days {
		out = append(out, weekdayNames[d])
	}
	return out
}

// Opened is the time open in after that was not open in before (both one
// day's open intervals, sorted): what a change opened.
func Opened(before, after []Interval) []Interval {
	out := Subtract(clockSpans(after), clockSpans(before))
	ivs := make([]Interval, 0, len(out))
	for _, s := range out {
		ivs = append(ivs, Interval{Start: s[0].String(), End: s[1].String()})
	}
	return ivs
}

// clockSpans parses intervals, skipping any that do not parse (they come
// from the database, written by this code).
func clockSpans(ivs []Interval) [][2]Clock {
	out := make([][2]Clock, 0, len(ivs))
	for _, iv := range ivs {
		s, err1 := ParseClock(iv.Start)
		e, err2 := ParseClock(iv.End)
		if err1 == nil && err2 == nil && s < e {
			out = append(out, [2]Clock{s, e})
		}
	}
	slices.SortFunc(out, func(a, b [2]Clock) int { return int(a[0] - b[0]) })
	return out
}

// Match returns the first newly opened time on date that the watch wants:
// date lies in [From, To] on one of Days, and a stretch of at least
// MinOpenedMinutes of opened starts inside the part of day and not before
// notBefore (the instructor's local now, as a date and a clock, when date
// is today; 0 otherwise). The interval returned starts at that start.
func (s WatchSpec) Match(date time.Time, opened []Interval, notBefore Clock) (Interval, bool) {
	if date.Before(s.From) || date.After(s.To) {
		return Interval{}, false
	}
	if len(s.Days) > 0 && !slices.Contains(s.Days, date.Weekday()) {
		return Interval{}, false
	}
	lo, hi := TimeOfDayRange(s.TimeOfDay)
	lo = max(lo, alignUp(notBefore))
	for _, sp := range clockSpans(opened) {
		start := max(sp[0], lo)
		if start < hi && sp[1]-start >= MinOpenedMinutes {
			return Interval{Start: start.String(), End: sp[1].String()}, true
		}
	}
	return Interval{}, false
}

// alignUp rounds c up to the next slot boundary.
func alignUp(c Clock) Clock {
	if r := int(c) % SlotMinutes; r != 0 {
		return c + Clock(SlotMinutes-r)
	}
	return c
}

// SlotOpenedText is the title and body of a slot.opened notification:
// "Saturday 10:00 just opened" / "Sarah Chen has open time on Sat Dec 12,
// 10:00–12:00. Book it before someone else does."
func SlotOpenedText(instructor string, date time.Time, iv Interval) (title, body string) {
	title = fmt.Sprintf("%s %s just opened", date.Weekday(), iv.Start)
	body = fmt.Sprintf("%s has open time on %s, %s–%s. Book it before someone else does.",
		instructor, date.Format("Mon Jan 2"), iv.Start, iv.End)
	return title, body
}
