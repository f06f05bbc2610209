package market

import (
	"slices"
	"time"
)

// Natural-language search, domain side: the parsed query, its results and
// suggestions. Parsing a query (the vocabulary index, grammar, typos) is
// package search; ranking is the store's.

// MaxSearchQueryChars is the longest query accepted (422 beyond it).
const MaxSearchQueryChars = 200

// SearchHorizonDays is how far ahead next_open looks, today included.
const SearchHorizonDays = 14

// ServiceMatch is a catalog service the query asks for.
type ServiceMatch struct {
	ID     string  `json:"id"`
	Slug   string  `json:"slug"`
	Name   string  `json:"name"`
	Weight float64 `json:"-"`
	// InstructorCount is how many instructors offer the service now (as of
	// the vocabulary load); 0 means nobody teaches it.
	InstructorCount int `json:"instructor_count"`
}

// AreaMatch is an area the query asks for; Weight is lower for an area that
// was matched only through its borough.
type AreaMatch struct {
	Name   string
	Weight float64
}

// NameMatch is an instructor the query names.
type NameMatch struct {
	InstructorID string
	Weight       float64
}

// DateScope narrows the days of a query to a stretch of the calendar, as
// seen from "today" in each instructor's timezone.
type DateScope int

// Date scopes.
const (
	ScopeAny      DateScope = iota // the whole horizon
	ScopeToday                     // "today", "tonight"
	ScopeTomorrow                  // "tomorrow"
	ScopeThisWeek                  // "this weekend", "this week": until the coming Sunday
	ScopeNextWeek                  // "next week", "next weekend": the following Monday–Sunday
)

// Chip is one thing the parser understood, with the exact text of the query
// it came from, so a client can remove that text to widen the search.
type Chip struct {
	Kind   string `json:"kind"`   // service | area | price | day | time | duration | level | instructor
	Label  string `json:"label"`  // what it was understood as
	Source string `json:"source"` // the words of the query, verbatim
}

// SearchQuery is a parsed query.
type SearchQuery struct {
	Services        []ServiceMatch
	Areas           []AreaMatch
	Boroughs        []string
	Instructors     []NameMatch
	MaxPriceCents   int // 0 = no cap
	Days            []time.Weekday
	Scope           DateScope
	TimeOfDay       string // morning | afternoon | evening | ""
	DurationMinutes int    // 0 = any
	Levels          []string
	// Words are the query's words the parser did not otherwise understand,
	// as letters and digits only; they are searched in bios and names.
	Words       []string
	Unmatched   []string
	Corrections map[string]string // typed → corrected
	Chips       []Chip
}

// Empty reports whether the query asks for nothing the search can use.
func (q *SearchQuery) Empty() bool {
	return len(q.Services) == 0 && len(q.Areas) == 0 && len(q.Instructors) == 0 && len(q.Days) == 0 &&
		q.TimeOfDay == "" && len(q.Levels) == 0 && len(q.Words) == 0 && q.MaxPriceCents == 0 && q.DurationMinutes == 0
}

// WantsTime reports whether the query says when (days, scope or time of day).
func (q *SearchQuery) WantsTime() bool {
	return len(q.Days) > 0 || q.Scope != ScopeAny || q.TimeOfDay != ""
}

// TimeRange is the local [start, end) in which a lesson must start for the
// query's time of day; the whole day when none was asked.
func (q *SearchQuery) TimeRange() (Clock, Clock) {
	switch q.TimeOfDay {
	case "morning":
		return 6 * 60, 12 * 60
	case "afternoon":
		return 12 * 60, 17 * 60
	case "evening":
		return 17 * 60, 23 * 60
	}
	return 0, 24 * 60
}

// Dates returns the local calendar dates (UTC midnights) within horizon days
// of today in loc that the query's days and scope allow, in order. "This
// weekend" on a Sunday morning in New York is that Sunday, whatever the
// server's zone.
func (q *SearchQuery) Dates(now time.Time, loc *time.Location, horizon int) []time.Time {
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	from, to := 0, horizon-1
	// Days until the coming Sunday (0 on a Sunday).
	toSunday := (7 - int(today.Weekday())) % 7
	switch q.Scope {
	case ScopeToday:
		to = 0
	case ScopeTomorrow:
		from, to = 1, 1
	case ScopeThisWeek:
		to = toSunday
	case ScopeNextWeek:
		from, to = toSunday+1, toSunday+7
	}
	if to > horizon-1 {
		to = horizon - 1
	}
	var out []time.Time
	for i := from; i <= to; i++ {
		day := today.AddDate(0, 0, i)
		if len(q.Days) == 0 || slices.Contains(q.Days, day.Weekday()) {
			out = append(out, day)
		}
	}
	return out
}

// SearchHit is one ranked instructor.
type SearchHit struct {
	InstructorID string        `json:"instructor_id"`
	FullName     string        `json:"full_name"`
	Areas        []string      `json:"areas"`
	Services     []SearchOffer `json:"services"` // the offers that match the query
	NextOpen     *NextOpen     `json:"next_open"`
	Score        float64       `json:"score"`
}

// SearchOffer is an offered service in a search result.
type SearchOffer struct {
	ID              string `json:"id"`
	ServiceID       string `json:"service_id"`
	Name            string `json:"name"`
	HourlyRateCents int    `json:"hourly_rate_cents"`
}

// NextOpen is the earliest open start that fits a query, in the
// instructor's timezone.
type NextOpen struct {
	Date  string `json:"date"`
	Start string `json:"start"`
	// DurationMinutes is the lesson length it fits (the asked length, else
	// the shortest offered), so a page can open that slot at that length.
	DurationMinutes int `json:"duration_minutes"`
}

// Suggestion is one completion offered while typing.
type Suggestion struct {
	Kind string  `json:"kind"` // service | area | instructor | recent
	Text string  `json:"text"`
	ID   *string `json:"id"`
	// Taught is set on service suggestions: false when nobody teaches it.
	Taught *bool `json:"taught,omitempty"`
}
