package market

// Category groups services ("Music", "Languages"…).
type Category struct {
	ID          string `json:"id"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Service is a lesson type in the catalog ("Piano", "Conversational Spanish").
type Service struct {
	ID          string `json:"id"`
	CategoryID  string `json:"category_id"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// InstructorCount is how many instructors offer the service now;
	// Taught is InstructorCount > 0 (a service nobody teaches is a dead end
	// for a student: the page marks it and search offers related ones).
	InstructorCount int  `json:"instructor_count"`
	Taught          bool `json:"taught"`
}

// Instructor is an instructor's public profile; ID is the instructor's user id.
type Instructor struct {
	ID              string              `json:"id"`
	FullName        string              `json:"full_name"`
	Bio             string              `json:"bio"`
	YearsExperience int                 `json:"years_experience"`
	Timezone        string              `json:"timezone"`
	Areas           []string            `json:"areas"`
	Services        []InstructorService `json:"services"`
	// CancellationNoticeHours: a student's cancellation closer than this to
	// the start is marked late (and a reschedule is refused).
	CancellationNoticeHours int `json:"cancellation_notice_hours"`
}

// InstructorService is a service an instructor offers, with its price and
// allowed lesson lengths. It is soft-deleted (Active=false), never removed
// while bookings reference it.
type InstructorService struct {
	ID              string `json:"id"`
	ServiceID       string `json:"service_id"`
	Name            string `json:"name"`
	HourlyRateCents int    `json:"hourly_rate_cents"`
	Durations       []int  `json:"durations"`
	Active          bool   `json:"is_active"`
	// Main marks the instructor's main service: the first active one they
	// offered (their founding offer). The booking page preselects it unless
	// the student came from a search for another service.
	Main bool `json:"main"`
}

// AllowsDuration reports whether minutes is one of s's lesson lengths.
func (s *InstructorService) AllowsDuration(minutes int) bool {
	for _, d := range s.Durations {
		if d == minutes {
			return true
		}
	}
	return false
}

// PriceCents is the price of a lesson of the given length, rounded to the cent.
func (s *InstructorService) PriceCents(minutes int) int {
	return (s.HourlyRateCents*minutes + 30) / 60
}
