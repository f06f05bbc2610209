package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// TemplateSignupAttempt is the email telling an account's owner that
// someone tried to register their address again.
const TemplateSignupAttempt = "account.signup_attempt"

// MailSignupAttempt queues, for the live account that owns email, the
// "someone tried to sign up with your email" message (a link to sign in),
// at most one per account per clock hour at (the dedupe key holds the
// hour), so repeated attempts cannot flood the owner. An address without a
// live account queues nothing and is no error. The email is sent by the
// River email job like every transactional email.
func (db *DB) MailSignupAttempt(ctx context.Context, email string, at time.Time) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL`,
			strings.ToLower(strings.TrimSpace(email))).Scan(&userID)
		switch {
		case market.ErrorCode(translate(err)) == market.ENOTFOUND:
			return nil
		case err != nil:
			return fmt.Errorf("find account of signup attempt: %w", translate(err))
		}
		return db.queueEmailTx(ctx, tx, NewEmail{UserID: userID, Template: TemplateSignupAttempt,
			Data: map[string]any{"path": "/#/login"},
			Key:  "signup-attempt:" + userID + ":" + at.UTC().Format("2006010215")})
	})
}
