package http

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"instainstru/market"
)

// icsContentType is RFC 5545's media type.
const icsContentType = "text/calendar; charset=utf-8"

// lessonCalendar renders bookings as an RFC 5545 calendar for viewerID
// (one of each lesson's parties): one VEVENT per lesson, in UTC instants,
// with a stable UID so a re-import or a feed refresh updates the event
// rather than adding another. name is the calendar's display name; pageURL
// the web page, linked from each event.
func lessonCalendar(bookings []market.Booking, viewerID, name, pageURL string, now time.Time) string {
	cal := ics.NewCalendarFor("InstaInstru")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(name)
	cal.SetName(name)
	cal.SetRefreshInterval("PT1H")
	for i := range bookings {
		addLesson(cal, &bookings[i], viewerID, pageURL, now)
	}
	return cal.Serialize()
}

func addLesson(cal *ics.Calendar, b *market.Booking, viewerID, pageURL string, now time.Time) {
	ev := cal.AddEvent(b.ID + "@instainstru")
	ev.SetDtStampTime(now.UTC())
	ev.SetCreatedTime(b.CreatedAt.UTC())
	ev.SetStartAt(b.StartsAt.UTC())
	ev.SetEndAt(b.EndsAt.UTC())
	ev.SetSummary(lessonSummary(b, viewerID))
	ev.SetLocation(lessonPlace(b))
	ev.SetDescription(lessonDescription(b, pageURL))
	if pageURL != "" {
		ev.SetURL(pageURL + "/#/lessons/" + b.ID)
	}
	if b.Status == market.BookingCancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
}

// lessonSummary names the lesson and the other party, as viewerID sees it.
func lessonSummary(b *market.Booking, viewerID string) string {
	if viewerID == b.InstructorID {
		return fmt.Sprintf("%s lesson: %s", b.ServiceName, b.Student.FullName)
	}
	return fmt.Sprintf("%s lesson with %s", b.ServiceName, b.Instructor.FullName)
}

// lessonPlace is the area and, when given, the meeting address or note.
func lessonPlace(b *market.Booking) string {
	parts := []string{}
	if b.Location.Address != nil && strings.TrimSpace(*b.Location.Address) != "" {
		parts = append(parts, *b.Location.Address)
	}
	if b.Location.Area != "" {
		parts = append(parts, b.Location.Area)
	}
	return strings.Join(parts, ", ")
}

// lessonDescription states the price and the cancellation terms with the
// exact free-until time in the instructor's timezone.
func lessonDescription(b *market.Booking, pageURL string) string {
	lines := []string{fmt.Sprintf("Price: $%d.%02d", b.PriceCents/100, b.PriceCents%100)}
	if b.NoticeHours > 0 {
		free := b.StartsAt.Add(-time.Duration(b.NoticeHours) * time.Hour).In(b.StartsAt.Location())
		lines = append(lines, fmt.Sprintf("Free cancellation until %s (%s); later cancellations are marked late.",
			free.Format("Mon, Jan 2 at 15:04"), b.StartsAt.Location()))
	}
	if pageURL != "" {
		lines = append(lines, "Manage this lesson: "+pageURL+"/#/lessons/"+b.ID)
	}
	return strings.Join(lines, "\n")
}
