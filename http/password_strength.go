package http

import (
	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// passwordStrengthRequest is what the sign-up and reset forms send while
// the person types: the password and, on sign-up, their name and email
// (a password may not contain them).
type passwordStrengthRequest struct {
	Password string `json:"password" validate:"max=1024"`
	FullName string `json:"full_name" validate:"max=200"`
	Email    string `json:"email" validate:"max=254"`
}

// passwordStrength is the meter's reading: zxcvbn's 0–4 score, whether the
// password would be accepted, and why not (the sentence a 422 would give).
type passwordStrength struct {
	Score   int     `json:"score"`
	OK      bool    `json:"ok"`
	Problem *string `json:"problem"`
}

// passwordStrengthRoutes: the meter on the sign-up and reset forms.
func (s *Server) passwordStrengthRoutes(r fiber.Router) {
	r.Post("/auth/password-strength", s.passwordStrength)
}

// passwordStrength is POST /auth/password-strength: the same rule
// registration and reset apply (market.PasswordProblem), so the meter
// never says "strong" for a password the server refuses. Nothing is
// stored or logged.
func (s *Server) passwordStrength(c *fiber.Ctx) error {
	var req passwordStrengthRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	out := passwordStrength{Score: market.PasswordScore(req.Password, req.FullName, req.Email)}
	if msg := market.PasswordProblem(req.Password, req.FullName, req.Email); msg != "" {
		out.Problem = &msg
	} else {
		out.OK = true
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
