package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// errRefreshRejected is the answer to every refresh token that cannot be
// used; it never says why, so a thief learns nothing.
func errRefreshRejected() error {
	return &market.Error{Code: market.EUNAUTHORIZED, Message: "invalid refresh token"}
}

// CreateRefreshToken stores the hash of a new refresh token that starts a
// family (a login or registration). Only the hash is ever stored.
//
// tokenVersion is the user's token version the caller checked the password
// against. The row is stored only while it is still current (and the user
// not deleted), read FOR SHARE: a login that raced a password reset either
// stores its token before the reset's revocation (which then revokes it)
// or waits for the reset's commit and is refused (EUNAUTHORIZED), so no
// refresh token outlives the reset.
func (db *DB) CreateRefreshToken(ctx context.Context, userID string, tokenVersion int, hash []byte, expiresAt time.Time) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, user_agent)
		SELECT id, gen_random_uuid(), $3, $4, $5 FROM users
		WHERE id = $1 AND token_version = $2 AND deleted_at IS NULL
		FOR SHARE`, userID, tokenVersion, hash, expiresAt, sessionUserAgent(ctx))
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return &market.Error{Code: market.EUNAUTHORIZED, Message: "the account's credentials changed; sign in again"}
	}
	return nil
}

// RotateRefreshToken spends the token whose hash is oldHash and stores
// newHash in the same family, returning the owner's user id. A token that is
// unknown, expired, or whose user was deleted is EUNAUTHORIZED. A token that
// was already spent or revoked is EUNAUTHORIZED too, and its whole family is
// revoked first (and that revocation is committed): someone replayed a token
// that only one party should still hold. The row lock makes two concurrent
// uses of one token count as a reuse. The user row is read FOR SHARE, so a
// password reset (which updates it, then revokes every refresh token)
// either waits for this rotation and then revokes its successor too, or
// commits first and this token is found revoked.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash, newHash []byte, expiresAt time.Time) (string, error) {
	var userID string
	reused := false
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var familyID string
		var spent, expired, userLive bool
		// The user row, then the token row: the order a reset takes them
		// in (users, then refresh_tokens), so the two never deadlock. One
		// round trip.
		b := &pgx.Batch{}
		b.Queue(`SELECT 1 FROM users WHERE id = (SELECT user_id FROM refresh_tokens WHERE token_hash = $1) FOR SHARE`, oldHash)
		b.Queue(`
			SELECT t.user_id, t.family_id,
			       t.used_at IS NOT NULL OR t.revoked_at IS NOT NULL,
			       t.expires_at <= now(),
			       u.deleted_at IS NULL
			FROM refresh_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1
			FOR UPDATE OF t`, oldHash)
		br := tx.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(&userID, &familyID, &spent, &expired, &userLive)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefreshRejected()
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		if spent {
			reused = true
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = now()
				WHERE family_id = $1 AND revoked_at IS NULL`, familyID); err != nil {
				return fmt.Errorf("revoke family: %w", err)
			}
			if err := auditTx(ctx, tx, market.AuditRefreshReuse, userID, map[string]any{"family_id": familyID}); err != nil {
				return err
			}
			return nil // commit the revocation, then refuse below
		}
		if expired || !userLive {
			return errRefreshRejected()
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1`, oldHash); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, user_agent)
			VALUES ($1, $2, $3, $4, $5)`, userID, familyID, newHash, expiresAt, sessionUserAgent(ctx)); err != nil {
			return fmt.Errorf("insert rotated refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if reused {
		return "", errRefreshRejected()
	}
	return userID, nil
}

// RevokeRefreshFamily revokes every token of the family that hash belongs
// to (logout) and returns the owner's id when it revoked anything. An
// unknown hash is not an error: logging out twice is fine.
func (db *DB) RevokeRefreshFamily(ctx context.Context, hash []byte) (string, error) {
	var owner string
	err := db.pool.QueryRow(ctx, `WITH r AS (UPDATE refresh_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL
		  AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
		RETURNING user_id)
		SELECT COALESCE((SELECT user_id::text FROM r LIMIT 1), '')`, hash).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("revoke refresh family: %w", translate(err))
	}
	return owner, nil
}

// revokeUserRefreshTokens revokes every live refresh token of userID in tx.
func revokeUserRefreshTokens(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = now()
		WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("revoke user refresh tokens: %w", err)
	}
	return nil
}
