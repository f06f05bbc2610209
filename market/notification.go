package market

import (
	"fmt"
	"time"
)

// Notification kinds (SPEC §4.2) and the realtime event that carries a new
// notification on the user's private topic.
const (
	NotifyBookingCreated     = "booking.created"     // to the instructor
	NotifyBookingConfirmed   = "booking.confirmed"   // to the student
	NotifyBookingCancelled   = "booking.cancelled"   // to the other party
	NotifyBookingRescheduled = "booking.rescheduled" // to the other party
	NotifyLessonReminder     = "lesson.reminder"     // to both
	EventNotificationCreated = "notification.created"
)

// Notification is one entry of a user's inbox.
type Notification struct {
	ID        string     `json:"id"`
	UserID    string     `json:"-"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	BookingID *string    `json:"booking_id"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// NotificationSettings are a user's choices; DefaultNotificationSettings
// apply until they save their own.
type NotificationSettings struct {
	Email         bool  `json:"email"`
	Reminders     bool  `json:"reminders"`
	ReminderHours []int `json:"reminder_hours"`
}

// DefaultNotificationSettings: email on, reminders a day and an hour ahead.
func DefaultNotificationSettings() NotificationSettings {
	return NotificationSettings{Email: true, Reminders: true, ReminderHours: []int{24, 1}}
}

// Validate checks the settings a user sends; reminder hours are 1..168,
// at most 4, no repeats.
func (s NotificationSettings) Validate() error {
	if len(s.ReminderHours) > 4 {
		return ValidationError(map[string]string{"reminder_hours": "at most 4 reminders"})
	}
	seen := map[int]bool{}
	for _, h := range s.ReminderHours {
		if h < 1 || h > 168 || seen[h] {
			return ValidationError(map[string]string{"reminder_hours": "must be distinct whole hours between 1 and 168"})
		}
		seen[h] = true
	}
	return nil
}

// LessonText is what a notification says about one lesson.
type LessonText struct {
	Other   string    // the other person's name
	Service string    // the lesson, e.g. "Piano"
	Start   time.Time // in the instructor's timezone
	End     time.Time // in the instructor's timezone
	Area    string    // where, e.g. "Upper West Side"; "" when unknown
	Hours   int       // lesson.reminder only: how long before the start
}

// When formats the lesson's time as "Sat Dec 12, 10:00–11:00" in the zone
// its instants carry (the instructor's).
func (l LessonText) When() string {
	return l.Start.Format("Mon Jan 2, 15:04") + "–" + l.End.Format("15:04")
}

// NotificationText builds the title and body of a notification of kind,
// e.g. booking.created: "New booking" / "Emma Johnson booked Piano, Sat Dec
// 12, 10:00–11:00, Upper West Side".
func NotificationText(kind string, l LessonText) (title, body string) {
	where := l.When()
	if l.Area != "" {
		where += ", " + l.Area
	}
	switch kind {
	case NotifyBookingCreated:
		return "New booking", fmt.Sprintf("%s booked %s, %s", l.Other, l.Service, where)
	case NotifyBookingConfirmed:
		return "Lesson confirmed", fmt.Sprintf("%s with %s, %s", l.Service, l.Other, where)
	case NotifyBookingCancelled:
		return "Lesson cancelled", fmt.Sprintf("%s cancelled %s, %s", l.Other, l.Service, where)
	case NotifyBookingRescheduled:
		return "Lesson moved", fmt.Sprintf("%s moved %s to %s", l.Other, l.Service, where)
	case NotifyLessonReminder:
		unit := "hours"
		if l.Hours == 1 {
			unit = "hour"
		}
		return fmt.Sprintf("Lesson in %d %s", l.Hours, unit), fmt.Sprintf("%s with %s, %s", l.Service, l.Other, where)
	}
	return kind, where
}
