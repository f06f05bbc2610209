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
	Student             *Party     `json:"student,omitempty"`    // filled when read back from the store
	Instructor          *Party     `json:"instructor,omitempty"` // filled when read back from the store
}

// Party is a participant of a booking as the other side sees them. A
// deleted account shows as DeletedUserName.
type Party struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
}

// DeletedUserName is the name a deleted account keeps in past lessons.
const DeletedUserName = "Deleted user"

// MinNotice is how far ahead a lesson must start when booked.
const MinNotice = time.Hour
