package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// lockInstructorRole checks, inside a booking transaction, that the user
// still holds the instructor role, and keeps that role row locked (FOR
// SHARE) until commit: an admin revoking the role either commits first (the
// booking sees no row: ENOTFOUND) or waits for the booking. The public
// reads hide such an instructor the same way (instructorFilter).
func lockInstructorRole(ctx context.Context, tx pgx.Tx, instructorID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM user_roles WHERE user_id = $1 AND role = $2 FOR SHARE`,
		instructorID, market.RoleInstructor).Scan(&one)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return market.Errorf(market.ENOTFOUND, "instructor not found")
		}
		return fmt.Errorf("check instructor role: %w", err)
	}
	return nil
}
