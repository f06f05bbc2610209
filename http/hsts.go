package http

import "github.com/gofiber/fiber/v2"

// hstsValue keeps browsers on HTTPS for a year, subdomains included, once
// they have seen the site over HTTPS (browsers ignore it over plain HTTP).
const hstsValue = "max-age=31536000; includeSubDomains"

// hsts sets Strict-Transport-Security on every response in production,
// where TLS ends at the load balancer in front of the nodes. Other
// environments serve plain HTTP on localhost and leave it out.
func (s *Server) hsts() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.cfg.Env == "production" {
			c.Set(fiber.HeaderStrictTransportSecurity, hstsValue)
		}
		return c.Next()
	}
}
