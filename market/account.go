package market

import "time"

// TokenIssue is a single-use token to store and mail. The caller made the
// token; only its SHA-256 (Hash) is stored. Path is the web page's link that
// carries the raw token (e.g. "/#/verify?token=…"): it is in the queued
// email only until the email is sent (see MarkEmailSent).
type TokenIssue struct {
	Hash []byte
	TTL  time.Duration
	Path string
}

// PasswordReset is the result of ResetPassword: whose password changed.
// Its session.ended event is published by the write path like every other.
type PasswordReset struct {
	UserID string
}

// AccountDeletion asks to delete UserID's account on behalf of Actor (the
// user themself or an admin). Now is the clock (nil: the wall clock).
type AccountDeletion struct {
	UserID string
	Actor  *User
	Now    func() time.Time
}

// DeletionResult is what a deletion committed.
type DeletionResult struct {
	CancelledBookings []string // ids of the future lessons cancelled
}

// NewUser is what CreateUser needs; PasswordHash is already bcrypt-hashed.
type NewUser struct {
	Email        string
	PasswordHash string
	FullName     string
	Role         string
	// EmailVerified marks the address as proven at creation (seeded demo
	// accounts, staff created by an admin); self-registration leaves it false.
	EmailVerified bool
}
