package market

import "time"

// UserPage selects live users ordered by email (unique), after the email
// AfterEmail (keyset pagination), optionally filtered by Query, a
// case-insensitive substring of email or name.
type UserPage struct {
	Query      string
	AfterEmail string
	Limit      int
}

// AdminBookingFilter selects bookings for the admin console. Empty fields
// do not filter. From/To are inclusive lesson dates (the instructor's local
// date). Pages run latest lesson first.
type AdminBookingFilter struct {
	InstructorID string
	StudentID    string
	Query        string // substring of the student's or instructor's name or email
	From, To     *time.Time
	Status       string
	Limit        int
	Cursor       string
}

// AdminBooking is a booking with the names the console shows.
type AdminBooking struct {
	Booking
	StudentName     string  `json:"student_name"`
	StudentEmail    string  `json:"student_email"`
	InstructorName  string  `json:"instructor_name"`
	InstructorEmail string  `json:"instructor_email"`
	ServiceName     string  `json:"service_name"`
	CancelReason    *string `json:"cancel_reason"`
}

// AdminInstructor is an instructor's listing state and utilisation over a
// date range.
type AdminInstructor struct {
	ID             string   `json:"id"`
	FullName       string   `json:"full_name"`
	Email          string   `json:"email"`
	Active         bool     `json:"active"` // account not deactivated
	Listed         bool     `json:"listed"` // active account, instructor role and ≥ 1 active service: shown in browse
	ActiveServices int      `json:"active_services"`
	Areas          []string `json:"areas"`
	OpenHours      float64  `json:"open_hours"`
	BookedHours    float64  `json:"booked_hours"`
	Utilisation    *float64 `json:"utilisation"` // booked / open; null without open hours
	Bookings       int      `json:"bookings"`
}

// Grants is the access model: every permission and each role's grants.
type Grants struct {
	Roles       map[string][]string
	Permissions []Permission
}
