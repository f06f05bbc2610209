package http

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"instainstru/hub"
	"instainstru/market"
)

// The web page's views that receive a mailed token (SPEC §4.2: the token
// rides as a `token=` parameter of the page's hash route).
const (
	tokenPageVerify = "/#/verify?token="
	tokenPageReset  = "/#/reset?token="
)

// accountTokenLen is the length of a mailed token: 32 random bytes,
// base64url without padding.
const accountTokenLen = 43

// verifyResetRoutes: email verification and password reset. The token
// routes are public (the token is the credential) and limited per client
// IP; a reset request is limited per IP and per address, known or not, so
// the limit says nothing about which addresses have accounts.
func (s *Server) verifyResetRoutes(r fiber.Router) {
	storage := s.limiterStorage()
	tokenIP := s.newLimiter(storage, "account-token-ip", s.cfg.AccountTokenPerIPPerMinute, s.clientIP, false)
	resetIP := s.newLimiter(storage, "password-reset-ip", s.cfg.PasswordResetPerIPPerMinute, s.clientIP, false)
	resetEmail := s.resetEmailLimit(storage) // lockout.go: never 429, owner's browser unlimited
	resend := s.newWindowLimiter(storage, "verify-resend-user", s.cfg.VerifyResendPerUserPerHour, time.Hour,
		func(c *fiber.Ctx) string { return currentUser(c).ID }, false)

	r.Post("/auth/verify-email", tokenIP, s.verifyEmail)
	s.handle(r, "POST", "/auth/verify-email/resend", market.PermAccountVerify, resend, s.resendVerification)
	r.Post("/auth/password-reset", resetIP, resetEmail, s.requestPasswordReset)
	r.Post("/auth/password-reset/confirm", tokenIP, s.confirmPasswordReset)
}

type accountTokenRequest struct {
	Token string `json:"token" validate:"required"`
}

type passwordResetRequest struct {
	Email string `json:"email" validate:"required,email_len,email"`
}

type passwordResetConfirmRequest struct {
	Token    string `json:"token" validate:"required"`
	Password string `json:"password" validate:"required"`
}

// newAccountToken makes a mailed token: the raw value goes into the link
// (page + token), the store keeps only its SHA-256.
func (s *Server) newAccountToken(page string, ttl time.Duration) (market.TokenIssue, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return market.TokenIssue{}, fmt.Errorf("random account token: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(b)
	return market.TokenIssue{Hash: hashRefreshToken(raw), TTL: ttl, Path: page + url.QueryEscape(raw)}, nil
}

// tokenHash checks the shape of a presented token and returns its hash.
// Anything that is not 43 base64url characters cannot be a token we made;
// it is refused before the database is asked.
func tokenHash(raw string) ([]byte, error) {
	if len(raw) != accountTokenLen || strings.IndexFunc(raw, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return nil, market.ValidationError(map[string]string{"token": "must be the token from the email link (43 characters)"})
	}
	return hashRefreshToken(raw), nil
}

// verifyEmail is POST /auth/verify-email {"token"} → 204. The token is
// spent; a second use, an expired, forged or reset token is 422 and
// nothing is written.
func (s *Server) verifyEmail(c *fiber.Ctx) error {
	var req accountTokenRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	hash, err := tokenHash(req.Token)
	if err != nil {
		return err
	}
	if _, err := s.deps.DB.VerifyEmail(s.requestMeta(c), hash); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// resendVerification is POST /auth/verify-email/resend → 202: a new link
// (the older one stops working); 409 when already verified.
func (s *Server) resendVerification(c *fiber.Ctx) error {
	t, err := s.newAccountToken(tokenPageVerify, s.cfg.VerifyTokenTTL)
	if err != nil {
		return err
	}
	if err := s.deps.DB.ResendVerification(s.requestMeta(c), currentUser(c).ID, t); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// requestPasswordReset is POST /auth/password-reset {"email"} → 202,
// whether or not the address has an account: the same work is done either
// way (a token is made and hashed, one lookup and one audit row are
// written), and the answer waits until ResetRequestFloor has passed, so
// neither the status, the body nor the timing tells them apart.
func (s *Server) requestPasswordReset(c *fiber.Ctx) error {
	start := time.Now()
	var req passwordResetRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	if err := s.validate(&req); err != nil {
		return err
	}
	if market.HasBidiControl(req.Email) {
		return market.ValidationError(map[string]string{"email": "must not contain bidirectional formatting characters"})
	}
	t, err := s.newAccountToken(tokenPageReset, s.cfg.ResetTokenTTL)
	if err != nil {
		return err
	}
	if err := s.deps.DB.RequestPasswordReset(s.requestMeta(c), req.Email, t); err != nil {
		return err
	}
	return s.resetAccepted(c, start)
}

// confirmPasswordReset is POST /auth/password-reset/confirm
// {"token","password"} → 204. The new password is checked like at
// registration before the token is looked at; then one transaction spends
// the token, sets the password, ends every refresh token and access token
// of the user and commits session.ended, which closes their sockets (4001)
// on every node. This node closes them at once too.
func (s *Server) confirmPasswordReset(c *fiber.Ctx) error {
	var req passwordResetConfirmRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if msg := market.PasswordProblem(req.Password); msg != "" {
		fields["password"] = msg
	}
	hash, err := tokenHash(req.Token)
	if err != nil {
		fields["token"] = "must be the token from the email link (43 characters)"
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	pw, err := bcrypt.GenerateFromPassword([]byte(req.Password), s.rest.bcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res, err := s.deps.DB.ResetPassword(s.requestMeta(c), hash, string(pw))
	if err != nil {
		return err
	}
	if s.deps.Hub != nil {
		s.deps.Hub.DisconnectUser(res.UserID, hub.StatusTokenExpired, "session ended")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// requireVerifiedEmail refuses (403 email_unverified) an action that needs
// a verified address, unless the node allows unverified booking.
func (s *Server) requireVerifiedEmail(c *fiber.Ctx) error {
	if u := currentUser(c); u != nil && !u.EmailVerified && !s.cfg.AllowUnverifiedBooking {
		return &market.Error{Code: market.EEMAILUNVERIFIED,
			Message: "Confirm your email address before booking: open the link we sent you, or ask for a new one."}
	}
	return nil
}
