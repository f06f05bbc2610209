package market

import "time"

// Booking statuses.
const (
	BookingConfirmed = "confirmed"
	BookingCancelled = "cancelled"
	BookingCompleted = "completed"
	BookingNoShow    = "no_show"
)

// Booking is a lesson. Date and times are local to the instructor's timezone;
// StartsAt/EndsAt are the DST-correct instants.
type Booking struct {
	ID                  string     `json:"id"`
	Status              string     `json:"status"`
	StudentID           string     `json:"student_id"`
	InstructorID        string     `json:"instructor_id"`
	InstructorServiceID string     `json:"instructor_service_id"`
	Date                string     `json:"date"`
	StartTime           string     `json:"start_time"`
	EndTime             string     `json:"end_time"`
	PriceCents          int        `json:"price_cents"`
	Note                string     `json:"note,omitempty"`
	StartsAt            time.Time  `json:"starts_at"`
	EndsAt              time.Time  `json:"ends_at"`
	CreatedAt           time.Time  `json:"created_at"`
	CancelledAt         *time.Time `json:"cancelled_at,omitempty"`
	// Who and where (SPEC §4.2). Booking objects travel only to the two
	// parties (and admins), never on public topics.
	Student     Party    `json:"student"`
	Instructor  Party    `json:"instructor"`
	ServiceName string   `json:"service_name"`
	Location    Location `json:"location"`
	// Late is true when the student cancelled inside the instructor's
	// cancellation notice.
	Late bool `json:"late"`
	// NoticeHours is the instructor's cancellation notice as it is now
	// (read with the booking; REST answers show it through BookingPolicy).
	NoticeHours int `json:"-"`
}

// Party is one side of a booking as the other side sees it. A deleted
// account shows as DeletedUserName.
type Party struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
}

// Location is where an in-person lesson happens: one of the instructor's
// areas and an optional meeting address or note (nil when none was given).
type Location struct {
	Area    string  `json:"area"`
	Address *string `json:"address"`
}

// Cancellation notice bounds, in hours.
const (
	DefaultCancellationNoticeHours = 24
	MaxCancellationNoticeHours     = 336
)

// NoShowWindow is how long after a lesson ends its instructor may report
// that the student did not come.
const NoShowWindow = 48 * time.Hour

// MaxAddressLen bounds a booking's meeting address or note, in characters.
const MaxAddressLen = 300

// HasBidiControl reports whether s contains a Unicode bidirectional
// control character (embeddings, overrides, isolates, marks), which can
// make text display differently from what it says.
func HasBidiControl(s string) bool {
	for _, r := range s {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
			return true
		}
	}
	return false
}

// DeletedUserName is the name a deleted account keeps in past lessons.
const DeletedUserName = "Deleted user"

// MinNotice is how far ahead a lesson must start when booked.
const MinNotice = time.Hour
