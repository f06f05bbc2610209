package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// maxFeedLessons bounds one calendar feed: a calendar app fetches it often.
const maxFeedLessons = 500

// RotateCalendarFeed makes hash the user's calendar feed token, replacing
// the previous one (its URL stops working). It returns when it was made.
func (db *DB) RotateCalendarFeed(ctx context.Context, userID string, hash []byte) (time.Time, error) {
	var at time.Time
	err := db.pool.QueryRow(ctx, `INSERT INTO calendar_feeds (user_id, token_hash)
		SELECT id, $2 FROM users WHERE id = $1 AND deleted_at IS NULL
		ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()
		RETURNING created_at`, userID, hash).Scan(&at)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return time.Time{}, market.Errorf(market.ENOTFOUND, "account not found")
		}
		return time.Time{}, fmt.Errorf("rotate calendar feed: %w", err)
	}
	return at.UTC(), nil
}

// CalendarFeed says when the user's current feed token was made (nil when
// they have none). The token itself is not stored, so it cannot be shown
// again: only rotated.
func (db *DB) CalendarFeed(ctx context.Context, userID string) (*time.Time, error) {
	var at time.Time
	err := db.pool.QueryRow(ctx, `SELECT created_at FROM calendar_feeds WHERE user_id = $1`, userID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read calendar feed: %w", err)
	}
	at = at.UTC()
	return &at, nil
}

// CalendarFeedLessons returns the owner of the feed token hash and their
// confirmed lessons that have not ended, soonest first (at most
// maxFeedLessons): as a student and as an instructor. ENOTFOUND when no
// live account has that token.
func (db *DB) CalendarFeedLessons(ctx context.Context, hash []byte) (string, []market.Booking, error) {
	var userID string
	err := db.pool.QueryRow(ctx, `SELECT f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id
		WHERE f.token_hash = $1 AND u.deleted_at IS NULL`, hash).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, market.Errorf(market.ENOTFOUND, "calendar feed not found")
	}
	if err != nil {
		return "", nil, fmt.Errorf("find calendar feed: %w", err)
	}
	rows, err := db.pool.Query(ctx, bookingSelect+` WHERE (b.student_id = $1 OR b.instructor_id = $1)
		AND b.status = 'confirmed' AND upper(b.during) > now()
		ORDER BY lower(b.during), b.id LIMIT $2`, userID, maxFeedLessons)
	if err != nil {
		return "", nil, fmt.Errorf("feed lessons: %w", err)
	}
	defer rows.Close()
	var out []market.Booking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return "", nil, fmt.Errorf("scan feed lesson: %w", err)
		}
		out = append(out, *b)
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("feed lessons: %w", err)
	}
	return userID, out, nil
}
