package store

import "instainstru/market"

// blocksTimeSQL is market.BlocksTime as a SQL condition on the bookings
// row aliased alias ("" for an unaliased table): every query that asks
// which bookings take time (open time, the slot checks, search's next open
// time) uses it, so the rule is written once in Go and once in SQL
// (TestBlocksTimeSQLIsMarketBlocksTime holds the two together). The
// exclusion constraints cover status = 'confirmed', a subset that agrees
// on every bookable instant (see market.BlocksTime).
func blocksTimeSQL(alias string) string {
	if alias != "" {
		alias += "."
	}
	return alias + "status <> '" + market.BookingCancelled + "'"
}

// instructorRoleLockSQL checks, inside a booking transaction, that the
// user still holds the instructor role, and keeps that role row locked (FOR
// SHARE) until commit: an admin revoking the role either commits first (the
// booking sees no row: ENOTFOUND) or waits for the booking. The public
// reads hide such an instructor the same way (instructorFilter).
const instructorRoleLockSQL = `SELECT 1 FROM user_roles WHERE user_id = $1 AND role = $2 FOR SHARE`
