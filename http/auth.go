package http

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
)

func (s *Server) authRoutes(r fiber.Router) {
	st := s.rest
	r.Post("/auth/register", st.registerIPLimit, st.registerEmailLimit, s.register)
	r.Post("/auth/login", append([]fiber.Handler{st.loginIPLimit}, st.passwordChecked(s, s.login)...)...)
	r.Post("/auth/refresh", st.tokenIPLimit, s.refresh)
	r.Post("/auth/logout", st.tokenIPLimit, s.logout)
	s.handle(r, "GET", "/auth/me", market.PermAccountRead, s.me)
}

type registerRequest struct {
	Email    string `json:"email" validate:"required,email_len,email"`
	Password string `json:"password" validate:"required"`
	FullName string `json:"full_name" validate:"required,name_len"`
	Role     string `json:"role" validate:"required,oneof=student instructor"`
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,email_len"`
	Password string `json:"password" validate:"required,max=1024"`
}

// refreshRequest is the optional body of refresh and logout: without a
// token the refresh cookie is used (auth_cookie.go).
type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"max=256"`
}

// userView is the "user" object of the auth responses (SPEC §4.1).
type userView struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	FullName string   `json:"full_name"`
	Roles    []string `json:"roles"`
	// EmailVerified: the verification link was opened; booking needs it.
	EmailVerified bool `json:"email_verified"`
}

func newUserView(u *market.User) userView {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userView{ID: u.ID, Email: u.Email, FullName: u.FullName, Roles: roles, EmailVerified: u.EmailVerified}
}

// tokenResponse is what register, login and refresh return.
type tokenResponse struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	User         userView `json:"user"`
}

// meResponse is GET /auth/me: the user with roles, and the permissions
// those roles grant.
type meResponse struct {
	User        meUser   `json:"user"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
}

type meUser struct {
	userView
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) register(c *fiber.Ctx) error {
	var req registerRequest
	// Normalise before validating, so " Bob@X.com " is accepted as bob@x.com.
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	req.FullName = strings.TrimSpace(req.FullName)
	fields := map[string]string{}
	if err := s.validate(&req); err != nil && !mergeValidation(fields, err) {
		return err
	}
	if _, bad := fields["password"]; !bad {
		if msg := market.PasswordProblem(req.Password, req.FullName, req.Email); msg != "" {
			fields["password"] = msg
		}
	}
	if _, bad := fields["full_name"]; !bad && utf8.RuneCountInString(req.FullName) > 200 {
		fields["full_name"] = "must be at most 200 characters"
	}
	if _, bad := fields["full_name"]; !bad {
		if msg := nameProblem(req.FullName); msg != "" { // names.go
			fields["full_name"] = msg
		}
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	// Hashed before the address is looked up, so a taken address costs the
	// same bcrypt time as a new one (register_guard.go).
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), s.rest.bcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	// The account and its verification email commit together.
	verify, err := s.newAccountToken(tokenPageVerify, s.cfg.VerifyTokenTTL)
	if err != nil {
		return err
	}
	u, err := s.deps.DB.RegisterUser(s.requestMeta(c), market.NewUser{
		Email: req.Email, PasswordHash: string(hash), FullName: req.FullName, Role: req.Role,
	}, verify)
	if market.ErrorCode(err) == market.ECONFLICT {
		return s.registerTaken(c, req.Email, err)
	}
	if err != nil {
		return err
	}
	resp, err := s.issueTokens(c, u)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(resp)
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	u, hash, err := s.deps.DB.UserByEmail(c.UserContext(), req.Email)
	if err != nil && market.ErrorCode(err) != market.ENOTFOUND {
		return err
	}
	if u == nil {
		// Spend the same time as a real check so response timing does not
		// reveal which emails have accounts.
		_ = bcrypt.CompareHashAndPassword(s.rest.dummyHash, []byte(req.Password)) //nolint:errcheck // timing only
		// No email in the trail: it may not be anyone's address.
		s.audit(c, market.AuditLoginFailed, "", map[string]any{"reason": "unknown_account"})
		return errBadCredentials()
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) != nil {
		s.audit(c, market.AuditLoginFailed, u.ID, map[string]any{"reason": "wrong_password"})
		return errBadCredentials()
	}
	resp, err := s.issueTokens(c, u)
	if err != nil {
		return err
	}
	s.audit(c, market.AuditLoginSucceeded, u.ID, nil)
	s.setDeviceCookie(c, u.Email) // lockout.go
	return c.JSON(resp)
}

func errBadCredentials() error {
	return &market.Error{Code: market.EUNAUTHORIZED, Message: "invalid email or password"}
}

// refresh spends a refresh token (the body's, or the cookie's) and returns
// a new pair (rotation), setting the new one as the cookie. A token
// presented twice revokes its whole family: see store.RotateRefreshToken.
func (s *Server) refresh(c *fiber.Ctx) error {
	presented, fromCookie, err := s.presentedRefreshToken(c, true)
	if err != nil {
		return err
	}
	resp, err := s.rotate(c, presented)
	if err != nil {
		if fromCookie && market.ErrorCode(err) == market.EUNAUTHORIZED {
			s.clearRefreshCookie(c) // spent, revoked or expired: stop sending it
		}
		return err
	}
	return c.JSON(resp)
}

// rotate spends presented and issues the next pair of its family.
func (s *Server) rotate(c *fiber.Ctx, presented string) (tokenResponse, error) {
	raw, hash, err := newRefreshToken()
	if err != nil {
		return tokenResponse{}, err
	}
	ctx := s.requestMeta(c) // the new token's user agent; a reuse is audited
	exp := time.Now().Add(s.cfg.RefreshTTL)
	userID, err := s.deps.DB.RotateRefreshToken(ctx, hashRefreshToken(presented), hash, exp)
	if err != nil {
		return tokenResponse{}, err
	}
	u, err := s.deps.DB.UserByID(ctx, userID)
	if err != nil {
		if market.ErrorCode(err) == market.ENOTFOUND {
			return tokenResponse{}, &market.Error{Code: market.EUNAUTHORIZED, Message: "invalid refresh token"}
		}
		return tokenResponse{}, err
	}
	access, accessExp, err := s.issueAccessToken(u)
	if err != nil {
		return tokenResponse{}, err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	s.setRefreshCookie(c, raw, exp)
	return tokenResponse{AccessToken: access, RefreshToken: raw, TokenType: "Bearer",
		ExpiresIn: expiresIn(accessExp), User: newUserView(u)}, nil
}

// logout revokes the family of the given refresh token (the body's, or the
// cookie's) and clears the cookie. It answers 204 even for unknown tokens,
// so logging out twice is harmless.
func (s *Server) logout(c *fiber.Ctx) error {
	presented, _, err := s.presentedRefreshToken(c, false)
	s.clearRefreshCookie(c)
	if market.ErrorCode(err) == market.ENOSESSION {
		return c.SendStatus(fiber.StatusNoContent)
	}
	if err != nil {
		return err
	}
	owner, err := s.deps.DB.RevokeRefreshFamily(c.UserContext(), hashRefreshToken(presented))
	if err != nil {
		return err
	}
	if owner != "" {
		s.audit(c, market.AuditLogout, owner, nil)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	u := currentUser(c)
	perms := u.Permissions
	if perms == nil {
		perms = []string{}
	}
	v := newUserView(u)
	c.Set(fiber.HeaderCacheControl, "no-store") // who is signed in, and their permissions
	return c.JSON(meResponse{
		User:        meUser{userView: v, Permissions: perms, CreatedAt: u.CreatedAt},
		Roles:       v.Roles,
		Permissions: perms,
	})
}

// issueTokens starts a new refresh family for u and signs an access token.
func (s *Server) issueTokens(c *fiber.Ctx, u *market.User) (tokenResponse, error) {
	access, exp, err := s.issueAccessToken(u)
	if err != nil {
		return tokenResponse{}, err
	}
	raw, hash, err := newRefreshToken()
	if err != nil {
		return tokenResponse{}, err
	}
	refreshExp := time.Now().Add(s.cfg.RefreshTTL)
	if err := s.deps.DB.CreateRefreshToken(s.requestMeta(c), u.ID, u.TokenVersion, hash, refreshExp); err != nil {
		return tokenResponse{}, err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	s.setRefreshCookie(c, raw, refreshExp)
	return tokenResponse{AccessToken: access, RefreshToken: raw, TokenType: "Bearer",
		ExpiresIn: expiresIn(exp), User: newUserView(u)}, nil
}

func expiresIn(exp time.Time) int {
	n := int(time.Until(exp).Round(time.Second).Seconds())
	if n < 0 {
		return 0
	}
	return n
}
