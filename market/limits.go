package market

import (
	"fmt"
)

// Limits of what a request may say. Each rule has this one home: the http
// layer's validation tags and its OpenAPI schema (http/bind.go ruleAliases)
// and the store's checks read these constants, and where a column has a
// width the constant matches it.

// MaxRangeDays is the longest date range (inclusive) that one availability
// read or bulk write may cover, so no request scans or rewrites an
// unbounded stretch of the calendar.
const MaxRangeDays = 90

// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted (the column width).
const MaxIdempotencyKeyLen = 128

// MaxNoteLen bounds a booking's note and a cancellation reason
// (bookings.note, bookings.cancel_reason).
const MaxNoteLen = 1000

// MaxAreaLen bounds one area name (instructor_profiles.areas, bookings.area).
const MaxAreaLen = 64

// Instructor profile bounds.
const (
	MaxBioLen          = 2000
	MaxYearsExperience = 80
	MaxAreas           = 30 // areas one instructor serves
	MaxTimezoneLen     = 64
)

// Account field bounds: an email address as SMTP allows it, a display name.
const (
	MaxEmailLen    = 254
	MaxFullNameLen = 200
)

// Lesson lengths: multiples of SlotMinutes from MinDurationMinutes to
// MaxDurationMinutes.
const (
	MinDurationMinutes = SlotMinutes
	MaxDurationMinutes = 8 * 60
)

// ValidDuration reports whether a lesson may last minutes.
func ValidDuration(minutes int) bool {
	return minutes >= MinDurationMinutes && minutes <= MaxDurationMinutes && minutes%SlotMinutes == 0
}

// DurationRule says what ValidDuration accepts, for validation messages.
func DurationRule() string {
	return fmt.Sprintf("must be a multiple of %d minutes from %d to %d", SlotMinutes, MinDurationMinutes, MaxDurationMinutes)
}
