package http

import "github.com/gofiber/fiber/v2"

// routes registers every route. Each area registers its own group.
func (s *Server) routes() {
	s.app.Get("/health", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	return c.Status(500).JSON(fiber.Map{"error": fiber.Map{"code": "internal", "message": "internal error"}})
}
