package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"instainstru/market"
)

// jwtLeeway absorbs small clock differences between the nodes that issue
// and verify tokens.
const jwtLeeway = 5 * time.Second

// issueAccessToken signs an HS256 access JWT for userID and returns it with
// its expiry.
func (s *Server) issueAccessToken(u *market.User) (string, time.Time, error) {
	if len(s.cfg.JWTSecret) == 0 {
		return "", time.Time{}, errors.New("JWT secret is not configured")
	}
	now := time.Now()
	exp := now.Add(s.cfg.AccessTTL)
	claims := accessClaims{Version: u.TokenVersion, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    s.cfg.JWTIssuer,
		Subject:   u.ID,
		Audience:  jwt.ClaimStrings{s.cfg.JWTAudience},
		ExpiresAt: jwt.NewNumericDate(exp),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        uuid.NewString(),
	}}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.JWTSecret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return raw, exp.Truncate(time.Second), nil
}

// accessClaims are the access JWT's claims: the registered ones and "ver",
// the user's token version when it was issued (see market.User.TokenVersion).
// Tokens without "ver" are version 0, the version of every account that
// never reset its password.
type accessClaims struct {
	jwt.RegisteredClaims
	Version int `json:"ver,omitempty"`
}

// parseAccessToken checks signature, algorithm (HS256 only: "none", RS256
// and the other HMACs are refused), issuer, audience and expiry, and returns
// the claims. It does not look at the database.
func (s *Server) parseAccessToken(raw string) (accessClaims, error) {
	var claims accessClaims
	if len(s.cfg.JWTSecret) == 0 {
		return claims, errors.New("JWT secret is not configured")
	}
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.cfg.JWTIssuer),
		jwt.WithAudience(s.cfg.JWTAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(jwtLeeway),
	)
	if err != nil {
		return claims, err
	}
	if _, err := uuid.Parse(claims.Subject); err != nil || len(claims.Subject) != 36 {
		return claims, errors.New("token subject is not a user id")
	}
	return claims, nil
}

// VerifyAccessToken authenticates raw (an access JWT) for any transport —
// REST middleware and the WebSocket upgrade and `auth` frame use it. It
// returns the live user (with roles and permissions, loaded from the
// database, so a deleted user's token stops working at once) and the token's
// expiry. Every failure is an EUNAUTHORIZED *market.Error, except a failing
// database, which is returned as is (a 5xx, not a forged token).
func (s *Server) VerifyAccessToken(ctx context.Context, raw string) (*market.User, time.Time, error) {
	claims, err := s.parseAccessToken(raw)
	if err != nil {
		msg := "invalid access token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "access token expired"
		}
		return nil, time.Time{}, &market.Error{Code: market.EUNAUTHORIZED, Message: msg}
	}
	u, err := s.deps.DB.UserByID(ctx, claims.Subject)
	if err != nil {
		if market.ErrorCode(err) == market.ENOTFOUND {
			return nil, time.Time{}, &market.Error{Code: market.EUNAUTHORIZED, Message: "account no longer exists"}
		}
		return nil, time.Time{}, fmt.Errorf("load token user: %w", err)
	}
	// The version came with the user in the same query: a password reset
	// since this token was issued ends it, without another round trip.
	if u.TokenVersion != claims.Version {
		return nil, time.Time{}, &market.Error{Code: market.EUNAUTHORIZED, Message: "session ended: sign in again"}
	}
	return u, claims.ExpiresAt.Time, nil
}

// newRefreshToken returns an opaque refresh token (32 random bytes,
// base64url) and the SHA-256 hash that is all the database keeps.
func newRefreshToken() (raw string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random refresh token: %w", err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, hashRefreshToken(raw), nil
}

// hashRefreshToken is the lookup key of a presented refresh token. A plain
// SHA-256 is enough: the token has 256 bits of entropy, so it cannot be
// guessed from its hash.
func hashRefreshToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}
