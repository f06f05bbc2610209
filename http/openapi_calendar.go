package http

import "instainstru/market"

// calendarOps documents "Add to calendar" and the private calendar feed.
func calendarOps() []apiOp {
	ics := map[string]any{"type": "string", "description": "text/calendar (RFC 5545): one VEVENT per lesson, UID <booking id>@instainstru"}
	return []apiOp{
		{Method: "GET", Path: "/api/v1/bookings/:id/calendar.ics", Tag: "bookings",
			Summary: "The lesson as an iCalendar attachment (its parties and admins; 404 for anyone else)",
			Auth:    market.PermBookingsRead, Status: 200, Response: ics},
		{Method: "GET", Path: "/api/v1/me/calendar-feed", Tag: "bookings",
			Summary: "Whether the caller has a private calendar feed, and since when (the URL is shown only when made)",
			Auth:    market.PermBookingsRead, Status: 200, Response: calendarFeedView{}},
		{Method: "POST", Path: "/api/v1/me/calendar-feed", Tag: "bookings",
			Summary: "Make a new secret calendar feed URL (201, shown this once); the previous URL stops working",
			Auth:    market.PermBookingsRead, Status: 201, Response: calendarFeedView{}},
		{Method: "GET", Path: "/api/v1/calendar/:token.ics", Tag: "bookings",
			Summary: "A private calendar feed: the token owner's upcoming lessons (public; the secret token is the credential; 404 when unknown or rotated)",
			Status:  200, Response: ics},
		{Method: "POST", Path: "/api/v1/auth/password-strength", Tag: "auth",
			Summary: "The password meter: zxcvbn score 0–4 and whether registration or reset would accept it (score ≥ 3, not containing the name or email); nothing is stored",
			Request: passwordStrengthRequest{}, Status: 200, Response: passwordStrength{}},
	}
}
