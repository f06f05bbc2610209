package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// Purposes of account tokens (the account_tokens.purpose column). A token
// only ever works for its own purpose.
const (
	TokenVerifyEmail   = "verify_email"
	TokenPasswordReset = "password_reset"
)

// Email templates of the account emails (mail/templates).
const (
	TemplateVerifyEmail   = "account.verify"
	TemplatePasswordReset = "account.password_reset"
)

// Audit actions of the verification flow (the reset uses
// AuditPasswordResetAsk and AuditPasswordChanged).
const (
	AuditEmailVerified      = "auth.email_verified"
	AuditVerificationResent = "auth.verification_resent"
)

// errBadAccountToken is the one answer to every token that cannot be used
// (unknown, forged, of another purpose, spent, expired, or of a deleted
// account): a guesser learns nothing from the difference.
func errBadAccountToken() error {
	return &market.Error{Code: market.EVALIDATION, Message: "the link is invalid or has expired",
		Details: map[string]any{"token": "is invalid, already used or expired: ask for a new link"}}
}

// RegisterUser creates a self-registered (unverified) account and, in the
// same transaction, its verification token and email: a committed account
// always has its email queued, a refused one (duplicate address) has none.
func (db *DB) RegisterUser(ctx context.Context, nu market.NewUser, verify market.TokenIssue) (*market.User, error) {
	nu.EmailVerified = false
	var id string
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = createUserTx(ctx, tx, nu); err != nil {
			return err
		}
		return db.issueTokenTx(ctx, tx, id, TokenVerifyEmail, verify)
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, id)
}

// issueTokenTx replaces userID's tokens of purpose with t and queues the
// email that carries it.
func (db *DB) issueTokenTx(ctx context.Context, tx pgx.Tx, userID, purpose string, t market.TokenIssue) error {
	if len(t.Hash) != 32 || t.TTL <= 0 || t.Path == "" {
		return fmt.Errorf("issue %s token: incomplete TokenIssue", purpose)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2`, userID, purpose); err != nil {
		return fmt.Errorf("drop older %s tokens: %w", purpose, err)
	}
	var tokenID string
	err := tx.QueryRow(ctx, `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id`,
		userID, purpose, t.Hash, t.TTL.Seconds()).Scan(&tokenID)
	if err != nil {
		return fmt.Errorf("insert %s token: %w", purpose, translate(err))
	}
	template := TemplateVerifyEmail
	if purpose == TokenPasswordReset {
		template = TemplatePasswordReset
	}
	minutes := int(t.TTL.Round(time.Minute) / time.Minute)
	return db.queueEmailTx(ctx, tx, NewEmail{UserID: userID, Template: template,
		Data: map[string]any{"path": t.Path, "secret": true, "valid_minutes": minutes, "valid_text": validFor(t.TTL)},
		Key:  purpose + ":" + tokenID})
}

// validFor says how long a link works, for the email's text.
func validFor(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Round(time.Hour)/time.Hour))
	default:
		return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
	}
}

// ResendVerification issues a new verification token (the older link stops
// working) and queues its email. ECONFLICT when the address is already
// verified, ENOTFOUND when the account is gone.
func (db *DB) ResendVerification(ctx context.Context, userID string, t market.TokenIssue) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		var verified bool
		// The row lock orders two resends, and a resend with a verification.
		err := tx.QueryRow(ctx, `SELECT email_verified_at IS NOT NULL FROM users
			WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&verified)
		if err != nil {
			return translate(err)
		}
		if verified {
			return market.Errorf(market.ECONFLICT, "your email address is already verified")
		}
		if err := db.issueTokenTx(ctx, tx, userID, TokenVerifyEmail, t); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditVerificationResent, userID, nil)
	})
}

// spendTokenTx marks the live token hash of purpose as used and returns its
// owner, under a row lock on the owner (so a reset and a deletion, or two
// uses of one token, are ordered). Any unusable token is errBadAccountToken
// and nothing is written.
func spendTokenTx(ctx context.Context, tx pgx.Tx, purpose string, hash []byte) (string, error) {
	var userID string
	err := tx.QueryRow(ctx, `SELECT u.id FROM account_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
		  AND u.deleted_at IS NULL
		FOR UPDATE OF u, t`, hash, purpose).Scan(&userID)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return "", errBadAccountToken()
		}
		return "", fmt.Errorf("find %s token: %w", purpose, err)
	}
	// Checked again under the lock: a concurrent use of the same token
	// committed first and this one must fail.
	tag, err := tx.Exec(ctx, `UPDATE account_tokens SET used_at = now()
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`, hash)
	if err != nil {
		return "", fmt.Errorf("spend %s token: %w", purpose, err)
	}
	if tag.RowsAffected() != 1 {
		return "", errBadAccountToken()
	}
	return userID, nil
}

// VerifyEmail spends a verification token and marks its owner's address
// verified. It returns the owner's id.
func (db *DB) VerifyEmail(ctx context.Context, hash []byte) (string, error) {
	var userID string
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var err error
		if userID, err = spendTokenTx(ctx, tx, TokenVerifyEmail, hash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, now())
			WHERE id = $1`, userID); err != nil {
			return fmt.Errorf("mark email verified: %w", err)
		}
		if err := auditTx(ctx, tx, AuditEmailVerified, userID, nil); err != nil {
			return err
		}
		// Every open tab of the user hears it (the banner goes); the event
		// row is the transaction's last write, as the outbox requires.
		_, err = appendEvents(ctx, tx, []market.NewEvent{{Topic: market.UserTopic(userID), Type: market.EventAccountVerified,
			Data: map[string]any{"user_id": userID, "email_verified": true}}})
		return err
	})
	return userID, err
}

// RequestPasswordReset issues a reset token to the live account of email
// and queues its email. An unknown address writes no token and queues
// nothing, but is audited like a known one (without a target): both paths
// do one lookup and one insert, so neither the answer nor its timing says
// whether the account exists. Both return nil.
func (db *DB) RequestPasswordReset(ctx context.Context, email string, t market.TokenIssue) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL FOR UPDATE`,
			strings.ToLower(strings.TrimSpace(email))).Scan(&userID)
		switch code := market.ErrorCode(translate(err)); {
		case err == nil:
		case code == market.ENOTFOUND:
			// No address in the trail: it may not be anyone's.
			return auditTx(ctx, tx, market.AuditPasswordResetAsk, "", map[string]any{"account": "unknown"})
		default:
			return fmt.Errorf("find account for reset: %w", err)
		}
		if err := db.issueTokenTx(ctx, tx, userID, TokenPasswordReset, t); err != nil {
			return err
		}
		return auditTx(ctx, tx, market.AuditPasswordResetAsk, userID, nil)
	})
}

// ResetPassword spends a reset token and, in one transaction: sets the new
// password hash, increments the token version (every access token issued
// before fails on its next use), revokes every refresh token, drops the
// user's other reset links, marks the address verified (the reset link
// proved it), audits, and appends session.ended on the user's topic, which
// makes every node close the user's sockets with 4001.
func (db *DB) ResetPassword(ctx context.Context, hash []byte, passwordHash string) (market.PasswordReset, error) {
	var res market.PasswordReset
	err := db.transact(ctx, func(tx pgx.Tx) error {
		userID, err := spendTokenTx(ctx, tx, TokenPasswordReset, hash)
		if err != nil {
			return err
		}
		res.UserID = userID
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, token_version = token_version + 1,
			email_verified_at = COALESCE(email_verified_at, now()) WHERE id = $1`, userID, passwordHash); err != nil {
			return fmt.Errorf("set password: %w", translate(err))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
			userID, TokenPasswordReset); err != nil {
			return fmt.Errorf("drop other reset links: %w", err)
		}
		if err := revokeUserRefreshTokens(ctx, tx, userID); err != nil {
			return err
		}
		if err := auditTx(ctx, tx, market.AuditPasswordChanged, userID, map[string]any{"via": "reset_link"}); err != nil {
			return err
		}
		_, err = appendEvents(ctx, tx, []market.NewEvent{{Topic: market.UserTopic(userID),
			Type: market.EventSessionEnded, Data: map[string]string{"user_id": userID, "reason": "password_reset"}}})
		return err
	})
	return res, err
}
