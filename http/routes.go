package http

import "github.com/gofiber/fiber/v2"

// routes registers every route. Each area registers its own group.
func (s *Server) routes() {
	s.opsRoutes()
	api := s.app.Group("/api/v1")
	s.availabilityRoutes(api)
	s.bookingRoutes(api)
	s.realtimeRoutes(api)
	s.staticRoutes(s.app)
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	return c.Status(500).JSON(fiber.Map{"error": fiber.Map{"code": "internal", "message": "internal error"}})
}
