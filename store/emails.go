package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"instainstru/market"
)

// OutgoingEmail is a queued email as its sender needs it.
type OutgoingEmail struct {
	ID        string
	UserID    string
	To        string // the user's address now
	ToName    string
	Template  string
	Data      map[string]any
	MessageID string // set once sent
	SentAt    *time.Time
}

// ClaimEmail reads email id for sending and counts the attempt. Returns
// ENOTFOUND when the email (or its user) no longer exists; a sent email
// comes back with SentAt set and must not be sent again.
func (db *DB) ClaimEmail(ctx context.Context, id string) (*OutgoingEmail, error) {
	var e OutgoingEmail
	var data []byte
	err := db.pool.QueryRow(ctx, `UPDATE emails e SET attempts = attempts + CASE WHEN e.sent_at IS NULL THEN 1 ELSE 0 END
		FROM users u WHERE e.id = $1 AND u.id = e.user_id
		RETURNING e.id, e.user_id, u.email, u.full_name, e.template, e.data, COALESCE(e.message_id, ''), e.sent_at`, id).Scan(
		&e.ID, &e.UserID, &e.To, &e.ToName, &e.Template, &data, &e.MessageID, &e.SentAt)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "email not found")
		}
		return nil, fmt.Errorf("claim email: %w", translate(err))
	}
	if err := json.Unmarshal(data, &e.Data); err != nil {
		return nil, fmt.Errorf("decode email data: %w", err)
	}
	return &e, nil
}

// MarkEmailSent records that the SMTP server accepted email id as
// messageID. It reports false when it was already marked (a duplicate run).
func (db *DB) MarkEmailSent(ctx context.Context, id, messageID string) (bool, error) {
	// A secret link (reset, verification) leaves the row once it is sent:
	// the database keeps only the token's hash.
	tag, err := db.pool.Exec(ctx, `UPDATE emails SET sent_at = now(), message_id = $2, last_error = NULL,
			data = CASE WHEN data ? 'secret' THEN data - 'path' ELSE data END
		WHERE id = $1 AND sent_at IS NULL`, id, messageID)
	if err != nil {
		return false, fmt.Errorf("mark email sent: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkEmailFailed records a failed attempt; final marks the email given up.
func (db *DB) MarkEmailFailed(ctx context.Context, id string, cause error, final bool) error {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err := db.pool.Exec(ctx, `UPDATE emails SET last_error = $2,
		failed_at = CASE WHEN $3 THEN now() ELSE failed_at END,
		data = CASE WHEN $3 AND data ? 'secret' THEN data - 'path' ELSE data END
		WHERE id = $1 AND sent_at IS NULL`, id, msg, final)
	if err != nil {
		return fmt.Errorf("mark email failed: %w", err)
	}
	return nil
}
