package http

import (
	"github.com/gofiber/fiber/v2"
)

// markNoShow is POST /bookings/{id}/no-show: the lesson's instructor
// reports, within 48 hours after its end, that the student did not come.
// → 200 the booking (status no_show); 403 for its student; 404 for anyone
// else; 409 before the end, after the window, or when it was cancelled.
func (s *Server) markNoShow(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	b, err := s.deps.DB.MarkNoShow(c.UserContext(), currentUser(c), id, nil)
	if err != nil {
		return err
	}
	return c.JSON(b)
}
