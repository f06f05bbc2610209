package store

import (
	"context"
	"fmt"

	"instainstru/market"
)

// AvailabilityStamp reads the instructor's current stamp in one statement
// (one snapshot, no transaction): ENOTFOUND when the instructor is unknown,
// deleted or no longer holds the instructor role, exactly like Availability.
func (db *DB) AvailabilityStamp(ctx context.Context, instructorID string) (market.AvailabilityStamp, error) {
	var st market.AvailabilityStamp
	err := db.pool.QueryRow(ctx, `SELECT p.timezone, COALESCE((SELECT seq FROM topic_seqs WHERE topic = $2), 0)
		FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND `+instructorFilter,
		instructorID, market.AvailabilityTopic(instructorID)).Scan(&st.Timezone, &st.Seq)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return st, market.Errorf(market.ENOTFOUND, "instructor not found")
		}
		return st, fmt.Errorf("read availability stamp: %w", translate(err))
	}
	return st, nil
}
