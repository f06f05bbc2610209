package http

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// Registration and account enumeration. SPEC §4.1 answers a new address
// with 201 and tokens and a taken one with 409, and the page needs the 409
// to offer "sign in instead", so the two answers cannot be made identical.
// What keeps the 409 from being a cheap enumeration oracle:
//
//   - the password is bcrypt-hashed before the address is looked up, so
//     both paths spend the same hashing time (register);
//   - attempts are limited per address per hour, known or not
//     (RegisterPerEmailPerHour; 429 rate_limited for any address alike),
//     besides the per-IP limit;
//   - the owner of a taken address is emailed "someone tried to sign up
//     with your email" (at most once an hour), so probing is visible to
//     the people probed.

// newRegisterEmailLimit limits registration attempts per address (the
// hashed, normalised email of the body) per hour.
func (s *Server) newRegisterEmailLimit(storage fiber.Storage) fiber.Handler {
	limit := s.newWindowLimiter(storage, "register-email", s.cfg.RegisterPerEmailPerHour, time.Hour, loginAccountKey, false)
	return func(c *fiber.Ctx) error {
		if bodyEmail(c) == "" {
			return c.Next() // no address to count against: bind refuses the body
		}
		return limit(c)
	}
}

// registerTaken answers a registration whose address has an account: the
// owner is emailed about the attempt (a failure to queue that is logged,
// never shown), and the caller gets conflict, the store's 409.
func (s *Server) registerTaken(c *fiber.Ctx, email string, conflict error) error {
	if err := s.deps.DB.MailSignupAttempt(c.UserContext(), email, time.Now()); err != nil {
		s.log.Warn("queue signup attempt email", "err", err, "request_id", c.Locals(localsRequestID))
	}
	return conflict
}
