package store

// instructorRoleLockSQL checks, inside a booking transaction, that the
// user still holds the instructor role, and keeps that role row locked (FOR
// SHARE) until commit: an admin revoking the role either commits first (the
// booking sees no row: ENOTFOUND) or waits for the booking. The public
// reads hide such an instructor the same way (instructorFilter).
const instructorRoleLockSQL = `SELECT 1 FROM user_roles WHERE user_id = $1 AND role = $2 FOR SHARE`
