package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// SavePhoto sets (or replaces) the photo of a live instructor. The user row
// is read FOR SHARE first, so a deletion of the account that commits
// meanwhile is waited for and then seen: a deleted account never gains a
// photo. Returns ENOTFOUND for anyone who is not a live instructor.
func (db *DB) SavePhoto(ctx context.Context, instructorID string, p *market.Photo) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		var live bool
		err := tx.QueryRow(ctx, `SELECT u.deleted_at IS NULL FROM users u JOIN instructor_profiles p ON p.user_id = u.id
			WHERE u.id = $1 FOR SHARE OF u`, instructorID).Scan(&live)
		if err != nil && market.ErrorCode(translate(err)) != market.ENOTFOUND {
			return fmt.Errorf("lock instructor: %w", err)
		}
		if err != nil || !live {
			return &market.Error{Code: market.ENOTFOUND, Message: "instructor not found"}
		}
		_, err = tx.Exec(ctx, `INSERT INTO instructor_photos (instructor_id, hash, image_96, image_320) VALUES ($1, $2, $3, $4)
			ON CONFLICT (instructor_id) DO UPDATE SET hash = EXCLUDED.hash, image_96 = EXCLUDED.image_96,
				image_320 = EXCLUDED.image_320, created_at = now()`, instructorID, p.Hash, p.Small, p.Large)
		if err != nil {
			return fmt.Errorf("save photo: %w", err)
		}
		return nil
	})
}

// DeletePhoto removes the instructor's photo; removing none is not an
// error (the result is the same).
func (db *DB) DeletePhoto(ctx context.Context, instructorID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM instructor_photos WHERE instructor_id = $1`, instructorID); err != nil {
		return fmt.Errorf("delete photo: %w", translate(err))
	}
	return nil
}

// PhotoImage returns the JPEG rendition of size (market.PhotoSmall or
// PhotoLarge) of the photo whose hash this is. ENOTFOUND when no current
// photo has that hash (a replaced or deleted one).
func (db *DB) PhotoImage(ctx context.Context, hash string, size int) ([]byte, error) {
	col := "image_320"
	if size == market.PhotoSmall {
		col = "image_96"
	}
	var img []byte
	err := db.pool.QueryRow(ctx, `SELECT `+col+` FROM instructor_photos WHERE hash = $1 LIMIT 1`, hash).Scan(&img)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, &market.Error{Code: market.ENOTFOUND, Message: "photo not found"}
		}
		return nil, fmt.Errorf("photo: %w", translate(err))
	}
	return img, nil
}

// PhotoHashes maps each of instructorIDs that has a photo to its hash
// (one query, however many ids: list and search pages call it once).
func (db *DB) PhotoHashes(ctx context.Context, instructorIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(instructorIDs))
	if len(instructorIDs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT instructor_id::text, hash FROM instructor_photos WHERE instructor_id = ANY($1::uuid[])`, instructorIDs)
	if err != nil {
		return nil, fmt.Errorf("photo hashes: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return nil, fmt.Errorf("photo hashes: %w", err)
		}
		out[id] = hash
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("photo hashes: %w", translate(err))
	}
	return out, nil
}
