package market

import "time"

// NewBooking is a booking request. Date and StartTime are in the
// instructor's timezone. Now is the clock (nil: the wall clock).
type NewBooking struct {
	StudentID           string
	InstructorID        string
	InstructorServiceID string
	Date                string
	StartTime           string
	DurationMinutes     int
	Note                string
	Area                string  // one of the instructor's areas; "" = their first
	Address             *string // optional meeting address or note (parties only)
	IdempotencyKey      string  // optional
	Now                 func() time.Time
	// AllowUnverifiedInstructor books an instructor whose email is not
	// verified (ALLOW_UNVERIFIED_BOOKING, for load tests only).
	AllowUnverifiedInstructor bool
}

// BookingResult is the outcome of CreateBooking.
type BookingResult struct {
	Booking *Booking
	// Replay is true when an earlier request with the same Idempotency-Key
	// already succeeded: Booking is its stored answer and nothing was written.
	Replay bool
}

// BookingQuery selects a page of "My Lessons".
type BookingQuery struct {
	Scope  string // ScopeUpcoming (default) or ScopePast
	Limit  int    // 1..100, default 20
	Cursor string // opaque, from the previous page
	Now    func() time.Time
}

// Booking list scopes ("My Lessons").
const (
	ScopeUpcoming = "upcoming" // confirmed lessons that have not ended, soonest first
	ScopePast     = "past"     // everything else (ended, cancelled, …), latest first
)
