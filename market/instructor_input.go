package market

// InstructorCursor is the keyset position of a page: the last (full_name,
// id) returned.
type InstructorCursor struct {
	FullName string
	ID       string
}

// InstructorPage selects public instructors: live users holding the
// instructor role, ordered by (full_name, id).
type InstructorPage struct {
	ServiceID string // only those actively offering this catalog service
	Query     string // case-insensitive substring of name, bio or an offered service's name
	After     *InstructorCursor
	Limit     int
}

// ProfileUpdate is the instructor-editable part of the profile. Callers
// validate it (timezone loadable, areas trimmed…).
type ProfileUpdate struct {
	Bio             string
	YearsExperience int
	Areas           []string
	Timezone        string
	// CancellationNoticeHours: 0..MaxCancellationNoticeHours.
	CancellationNoticeHours int
}

// NewInstructorService is an offer to add; Durations are validated by the
// caller (multiples of 15 in 15..480).
type NewInstructorService struct {
	ServiceID       string
	HourlyRateCents int
	Durations       []int
}

// InstructorServiceChange holds the fields a PATCH may change (nil = keep).
type InstructorServiceChange struct {
	HourlyRateCents *int
	Durations       []int
}
