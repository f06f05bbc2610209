package http

import "github.com/gofiber/fiber/v2"

// securityHeaders sets headers every response carries: nosniff, so a
// browser never runs a JSON (or error) body as script or HTML.
func securityHeaders() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Next()
	}
}
