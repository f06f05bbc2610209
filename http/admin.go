package http

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// adminRoutes: the console's bookings, instructors and analytics. Reads
// need the *:read_any / analytics:read permissions (admin and support);
// the one write, cancelling, needs bookings:manage_any (admin).
func (s *Server) adminRoutes(r fiber.Router) {
	s.handle(r, "GET", "/admin/bookings", market.PermBookingsReadAny, s.adminListBookings)
	s.handle(r, "POST", "/admin/bookings/:id/cancel", market.PermBookingsManageAny, s.adminCancelBooking)
	s.handle(r, "GET", "/admin/instructors", market.PermInstructorsReadAny, s.adminListInstructors)
	for _, a := range s.analyticsEndpoints() {
		s.handle(r, "GET", "/admin/analytics/"+a.name, market.PermAnalyticsRead, a.handler)
	}
}

// queryDate returns an optional YYYY-MM-DD query parameter (nil when absent).
func queryDate(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	d, err := market.ParseDate(v)
	if err != nil {
		return nil, market.ValidationError(map[string]string{name: "must be a date YYYY-MM-DD"})
	}
	return &d, nil
}

type adminBookingList struct {
	Items      []market.AdminBooking `json:"items"`
	NextCursor *string               `json:"next_cursor"`
}

// adminListBookings is GET /admin/bookings?instructor_id=&student_id=&q=
// &from=&to=&status=&limit=&cursor=: every booking, latest lesson first.
func (s *Server) adminListBookings(c *fiber.Ctx) error {
	var f market.AdminBookingFilter
	var err error
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	if f.InstructorID, err = queryUUID(c, "instructor_id"); err != nil {
		return err
	}
	if f.StudentID, err = queryUUID(c, "student_id"); err != nil {
		return err
	}
	if f.Query, err = queryText(c, "q", 200); err != nil {
		return err
	}
	if f.Status, err = queryText(c, "status", 16); err != nil {
		return err
	}
	if f.Cursor, err = queryText(c, "cursor", 512); err != nil {
		return err
	}
	if f.From, err = queryDate(c, "from"); err != nil {
		return err
	}
	if f.To, err = queryDate(c, "to"); err != nil {
		return err
	}
	items, next, err := s.deps.DB.AdminBookings(c.UserContext(), f)
	if err != nil {
		return err
	}
	resp := adminBookingList{Items: items}
	if resp.Items == nil {
		resp.Items = []market.AdminBooking{}
	}
	if next != "" {
		resp.NextCursor = &next
	}
	return c.JSON(resp)
}

type adminCancelRequest struct {
	Reason string `json:"reason" validate:"required,min=3,note_len"`
}

// adminCancelBooking is POST /admin/bookings/{id}/cancel {"reason"}: the
// same store path as a participant's cancel (one transaction with its
// outbox events), so both parties and the availability watchers get their
// pushes. The reason is required and kept on the booking.
func (s *Server) adminCancelBooking(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req adminCancelRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	b, err := s.deps.DB.CancelBooking(c.UserContext(), currentUser(c), id, req.Reason, nil)
	if err != nil {
		return err
	}
	s.metrics.bookings.WithLabelValues(bookingCancelled).Inc()
	return c.JSON(b)
}

type adminInstructorList struct {
	From  string                   `json:"from"`
	To    string                   `json:"to"`
	Items []market.AdminInstructor `json:"items"`
}

// adminListInstructors is GET /admin/instructors?from=&to=: every
// instructor's listing state and utilisation over the range (default: the
// next 14 days).
func (s *Server) adminListInstructors(c *fiber.Ctx) error {
	today := todayIn(time.Now())
	from, to, err := analyticsRange(c, today, today.AddDate(0, 0, 13))
	if err != nil {
		return err
	}
	items, err := s.deps.DB.AdminInstructors(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	if items == nil {
		items = []market.AdminInstructor{}
	}
	return c.JSON(adminInstructorList{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Items: items})
}

// todayIn is now's calendar date in the analytics zone, as a date.
func todayIn(now time.Time) time.Time {
	loc, err := time.LoadLocation(market.AnalyticsZone)
	if err != nil {
		loc = time.UTC
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// analyticsRange reads ?from=&to= (inclusive dates), defaulting to
// [defFrom, defTo]; more than a year, or from after to, is 422.
func analyticsRange(c *fiber.Ctx, defFrom, defTo time.Time) (time.Time, time.Time, error) {
	from, err := queryDate(c, "from")
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := queryDate(c, "to")
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	switch {
	case from == nil && to == nil:
		from, to = &defFrom, &defTo
	case from == nil:
		f := to.AddDate(0, 0, -int(defTo.Sub(defFrom).Hours()/24))
		from = &f
	case to == nil:
		t := from.AddDate(0, 0, int(defTo.Sub(defFrom).Hours()/24))
		to = &t
	}
	if err := market.ValidateAnalyticsRange(*from, *to); err != nil {
		return time.Time{}, time.Time{}, err
	}
	return *from, *to, nil
}

// analyticsResponse is the shape of every /admin/analytics/… answer.
type analyticsResponse struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Series    any    `json:"series"`
	Available any    `json:"available,omitempty"` // which optional sources existed
}

type analyticsEndpoint struct {
	name    string
	summary string
	doc     any // Go value of the answer's documented type, for OpenAPI
	handler fiber.Handler
}

// analyticsEndpoints lists the analytics series. Each reads ?from=&to=
// (default: the last 30 days) and answers analyticsResponse.
func (s *Server) analyticsEndpoints() []analyticsEndpoint {
	type query func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (series, available any, err error)
	const topN = 10
	h := func(q query) fiber.Handler {
		return func(c *fiber.Ctx) error {
			today := todayIn(time.Now())
			from, to, err := analyticsRange(c, today.AddDate(0, 0, -29), today)
			if err != nil {
				return err
			}
			series, available, err := q(c, s.deps.DB, from, to)
			if err != nil {
				return err
			}
			return c.JSON(analyticsResponse{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
				Series: series, Available: available})
		}
	}
	return []analyticsEndpoint{
		{"bookings", "Bookings created and cancelled per day", bookingSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.BookingSeries(c.UserContext(), from, to)
				return v, nil, err
			})},
		{"late-cancellations", "Cancellations per day, and those less than 24 h before the lesson", lateCancellationSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.LateCancellationSeries(c.UserContext(), from, to)
				return v, nil, err
			})},
		{"searches", "Searches and zero-result searches per day", searchSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, ok, err := db.SearchSeries(c.UserContext(), from, to)
				return v, map[string]bool{"search_log": ok}, err
			})},
		{"conversion", "Instructor-page views, searches and bookings per day, with per-day rates", conversionSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.ConversionSeries(c.UserContext(), from, to)
				return v, nil, err
			})},
		{"top-services", "Services by bookings created in the range", rankedSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.TopServices(c.UserContext(), from, to, topN)
				return v, nil, err
			})},
		{"top-areas", "Areas by bookings created in the range (each area of the instructor)", rankedSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.TopAreas(c.UserContext(), from, to, topN)
				return v, nil, err
			})},
		{"utilisation", "Open and booked hours per lesson date over all instructors", utilisationSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, err := db.UtilisationSeries(c.UserContext(), from, to)
				return v, nil, err
			})},
		{"notifications", "Notifications created, and jobs sent or failed, per day", notificationSeriesDoc{},
			h(func(c *fiber.Ctx, db analyticsStore, from, to time.Time) (any, any, error) {
				v, av, err := db.NotificationSeries(c.UserContext(), from, to)
				return v, av, err
			})},
	}
}

// recordView counts a view of an instructor's page for conversion
// analytics. A failure is logged, never shown: the page matters more.
func (s *Server) recordView(c *fiber.Ctx, instructorID string) {
	if err := s.deps.DB.RecordInstructorView(c.UserContext(), instructorID); err != nil {
		s.log.Warn("record instructor view", "err", err, "request_id", c.Locals(localsRequestID))
	}
}
