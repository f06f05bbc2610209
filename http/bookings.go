package http

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// Booking results counted by instainstru_bookings_total.
const (
	bookingCreated     = "created"
	bookingConflict    = "conflict"
	bookingReplay      = "idempotent_replay"
	bookingCancelled   = "cancelled"
	bookingRescheduled = "rescheduled"
)

// headerIdempotencyKey names the optional key that makes POST /bookings
// safe to retry; headerReplayed marks an answer repeated from the first
// request with that key.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// bookingRoutes: instant booking and "My Lessons".
func (s *Server) bookingRoutes(r fiber.Router) {
	s.handle(r, "POST", "/bookings", market.PermBookingsCreate, s.createBooking)
	s.handle(r, "GET", "/bookings", market.PermBookingsRead, s.listBookings)
	s.handle(r, "GET", "/bookings/:id", market.PermBookingsRead, s.getBooking)
	s.handle(r, "POST", "/bookings/:id/cancel", market.PermBookingsManage, s.cancelBooking)
	s.handle(r, "POST", "/bookings/:id/reschedule", market.PermBookingsManage, s.rescheduleBooking)
	s.handle(r, "POST", "/bookings/:id/no-show", market.PermBookingsManage, s.markNoShow)
}

type bookingRequest struct {
	InstructorID        string `json:"instructor_id" validate:"required"`
	InstructorServiceID string `json:"instructor_service_id" validate:"required"`
	Date                string `json:"date" validate:"required"`
	StartTime           string `json:"start_time" validate:"required"`
	DurationMinutes     int    `json:"duration_minutes" validate:"required"`
	Note                string `json:"note" validate:"note_len"`

	// Where (SPEC §4.2): one of the instructor's areas (default: their
	// first) and an optional meeting address, shown to the two parties only.
	Area    string  `json:"area"`
	Address *string `json:"address"`
}

// countConflict records a booking attempt that lost its slot.
func (s *Server) countConflict(err error) error {
	if market.ErrorCode(err) == market.ESLOTUNAVAIL {
		s.metrics.bookings.WithLabelValues(bookingConflict).Inc()
	}
	return err
}

// createBooking is POST /bookings → 201 the booking (confirmed at once), or
// 409 slot_unavailable. With an Idempotency-Key, a repeat of the same
// request by the same user answers the first result again (byte for byte)
// and books nothing; the same key with a different request is 422.
func (s *Server) createBooking(c *fiber.Ctx) error {
	if err := s.requireVerifiedEmail(c); err != nil {
		return err
	}
	key := c.Get(headerIdempotencyKey)
	if len(key) > market.MaxIdempotencyKeyLen || !validText(key) {
		return market.ValidationError(map[string]string{headerIdempotencyKey: fmt.Sprintf(
			"must be at most %d characters of text", market.MaxIdempotencyKeyLen)})
	}
	var req bookingRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if err := s.validate(&req); err != nil && !mergeValidation(fields, err) {
		return err
	}
	for field, v := range map[string]*string{"instructor_id": &req.InstructorID, "instructor_service_id": &req.InstructorServiceID} {
		if _, bad := fields[field]; bad {
			continue
		}
		id, err := parseUUID(*v)
		if err != nil {
			fields[field] = "must be a UUID"
			continue
		}
		*v = id
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	res, err := s.deps.DB.CreateBooking(c.UserContext(), market.NewBooking{
		StudentID:           currentUser(c).ID,
		InstructorID:        req.InstructorID,
		InstructorServiceID: req.InstructorServiceID,
		Date:                req.Date,
		StartTime:           req.StartTime,
		DurationMinutes:     req.DurationMinutes,
		Note:                req.Note,
		Area:                req.Area,
		Address:             req.Address,
		IdempotencyKey:      key,
		// ALLOW_UNVERIFIED_BOOKING (load tests) lifts both sides' rule.
		AllowUnverifiedInstructor: s.cfg.AllowUnverifiedBooking,
	})
	if err != nil {
		return s.countConflict(err)
	}
	if res.Replay {
		s.metrics.bookings.WithLabelValues(bookingReplay).Inc()
		c.Set(headerReplayed, "true")
	} else {
		s.metrics.bookings.WithLabelValues(bookingCreated).Inc()
	}
	c.Set(fiber.HeaderLocation, "/api/v1/bookings/"+res.Booking.ID)
	// A replay answers exactly like the first request: 201 and its body.
	return c.Status(fiber.StatusCreated).JSON(res.Booking)
}

type bookingList struct {
	Items      []bookingOut `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// listBookings is GET /bookings?scope=upcoming|past&limit=&cursor= ("My
// Lessons"): a student's bookings, an instructor's bookings with them, or
// all bookings for an admin. Upcoming: confirmed lessons not yet ended,
// soonest first; past: the rest, latest first.
func (s *Server) listBookings(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	cursor, err := queryText(c, "cursor", 512)
	if err != nil {
		return err
	}
	items, next, err := s.deps.DB.Bookings(c.UserContext(), currentUser(c), market.BookingQuery{
		Scope: c.Query("scope", market.ScopeUpcoming), Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return err
	}
	resp := bookingList{Items: withPolicies(items, currentUser(c))}
	if next != "" {
		resp.NextCursor = &next
	}
	return c.JSON(resp)
}

// getBooking is GET /bookings/{id}: only its student, its instructor and
// admins see it; for anyone else it does not exist (404).
func (s *Server) getBooking(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	b, err := s.deps.DB.Booking(c.UserContext(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(withPolicy(b, currentUser(c)))
}

type cancelRequest struct {
	Reason string `json:"reason" validate:"note_len"`
}

// cancelBooking is POST /bookings/{id}/cancel {"reason"?} (body optional) →
// 200 the booking, cancelled; its time is open again.
func (s *Server) cancelBooking(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req cancelRequest
	if len(bytes.TrimSpace(rawBody(c))) > 0 {
		if err := s.bind(c, &req); err != nil {
			return err
		}
	}
	// requestMeta: an admin's cancellation is audited in its transaction.
	b, err := s.deps.DB.CancelBooking(s.requestMeta(c), currentUser(c), id, req.Reason, nil)
	if err != nil {
		return err
	}
	s.metrics.bookings.WithLabelValues(bookingCancelled).Inc()
	return c.JSON(withPolicy(b, currentUser(c)))
}

type rescheduleRequest struct {
	Date      string `json:"date" validate:"required"`
	StartTime string `json:"start_time" validate:"required"`
}

// rescheduleBooking is POST /bookings/{id}/reschedule {"date","start_time"}
// → 200 the booking at its new time, or an error and nothing changed.
func (s *Server) rescheduleBooking(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req rescheduleRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	b, moved, err := s.deps.DB.RescheduleBooking(c.UserContext(), currentUser(c), id, req.Date, req.StartTime, nil)
	if err != nil {
		return s.countConflict(err)
	}
	if moved {
		s.metrics.bookings.WithLabelValues(bookingRescheduled).Inc()
	}
	return c.JSON(withPolicy(b, currentUser(c)))
}
