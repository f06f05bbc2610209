package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// DeletedEmailDomain is where a deleted account's email goes: the address
// becomes <id>@deleted.invalid (unique, lower case, no personal data), so
// the real address is free to register again.
const DeletedEmailDomain = "deleted.invalid"

// deletionCancelReason is the cancel_reason of lessons cancelled because
// their student or instructor deleted the account.
const deletionCancelReason = "account deleted"

// accountScrubbers blank what a deleted account leaves behind, in order,
// inside the deletion's transaction; $1 is the user id. A new table holding
// personal data adds one line here (and one in exportSections).
var accountScrubbers = []struct {
	table string
	sql   string
}{
	{"bookings", `UPDATE bookings SET note = '', address = NULL WHERE student_id = $1 AND (note <> '' OR address IS NOT NULL)`},
	{"bookings", `UPDATE bookings SET cancel_reason = NULL WHERE cancelled_by = $1 AND cancel_reason IS NOT NULL
		AND cancel_reason <> '` + deletionCancelReason + `'`},
	{"refresh_tokens", `UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()), user_agent = '' WHERE user_id = $1`},
	{"idempotency_keys", `DELETE FROM idempotency_keys WHERE user_id = $1`},
	{"search_history", `DELETE FROM search_history WHERE user_id = $1`},
	{"notifications", `DELETE FROM notifications WHERE user_id = $1`},
	{"notification_settings", `DELETE FROM notification_settings WHERE user_id = $1`},
	// Queued emails to the user are dropped too (their jobs find nothing to send).
	{"emails", `DELETE FROM emails WHERE user_id = $1`},
	{"account_tokens", `DELETE FROM account_tokens WHERE user_id = $1`},
	{"instructor_photos", `DELETE FROM instructor_photos WHERE instructor_id = $1`},
	// Messages the user sent are blanked; the other party keeps the thread
	// (their own messages) with "Deleted user" as the correspondent.
	{"messages", `UPDATE messages SET body = '' WHERE sender_id = $1 AND body <> ''`},
	{"instructor_services", `UPDATE instructor_services SET is_active = false, updated_at = now() WHERE instructor_id = $1 AND is_active`},
	{"instructor_profiles", `UPDATE instructor_profiles SET bio = '', areas = '{}', years_experience = 0, updated_at = now() WHERE user_id = $1`},
	{"users", `UPDATE users SET full_name = '` + market.DeletedUserName + `', email = id::text || '@` + DeletedEmailDomain + `',
		password_hash = '', deleted_at = now() WHERE id = $1`},
}

// DeleteAccount deletes an account in one transaction — the one path shared
// by self-service and admin deletion: every future confirmed lesson is
// cancelled through the normal cancel logic (booking.cancelled to both
// parties, availability.changed to watchers), a deleted instructor's future
// windows go, personal fields are scrubbed (accountScrubbers: name becomes
// "Deleted user", the email is freed, notes go, refresh tokens are revoked),
// the row is marked deleted, an account.deleted event on the user's topic
// tells every node to close their sockets, and an audit entry is written.
// Past lessons stay for the other party. Returns ENOTFOUND if the user does
// not exist or is already deleted.
//
// Locks: the schedules of every instructor involved (sorted), then the user
// row. A booking for this student committed meanwhile is refused by the
// bookings_live_student trigger once this commits.
func (db *DB) DeleteAccount(ctx context.Context, d market.AccountDeletion) (*market.DeletionResult, error) {
	var res *market.DeletionResult
	err := db.transact(ctx, func(tx pgx.Tx) error {
		res = &market.DeletionResult{}
		return db.deleteAccountTx(ctx, tx, d, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (db *DB) deleteAccountTx(ctx context.Context, tx pgx.Tx, d market.AccountDeletion, res *market.DeletionResult) error {
	now := nowFunc(d.Now)
	// The access-model lock comes first (role changes take it before the
	// user row too): deleting the last admin is refused below.
	if err := lockRBAC(ctx, tx); err != nil {
		return err
	}
	var isInstructor bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instructor_profiles WHERE user_id = $1)`, d.UserID).Scan(&isInstructor); err != nil {
		return fmt.Errorf("read profile: %w", err)
	}
	futureSQL := `SELECT id, instructor_id FROM bookings
		WHERE (student_id = $1 OR instructor_id = $1) AND status = 'confirmed' AND lower(during) > $2
		ORDER BY lower(during), id`
	instructors, err := futureInstructors(ctx, tx, futureSQL, d.UserID, now)
	if err != nil {
		return err
	}
	if isInstructor && !slices.Contains(instructors, d.UserID) {
		instructors = append(instructors, d.UserID)
	}
	slices.Sort(instructors)
	locked := map[string]*time.Location{}
	for _, id := range instructors {
		loc, err := lockSchedule(ctx, tx, id)
		if err != nil && market.ErrorCode(err) != market.ENOTFOUND {
			return err
		}
		locked[id] = loc
	}
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE`, d.UserID).Scan(&one); err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return market.Errorf(market.ENOTFOUND, "user not found")
		}
		return fmt.Errorf("lock user: %w", err)
	}

	// Read again under the user lock: a lesson booked between the first read
	// and the lock is in this list (its instructor is locked here if new).
	type lesson struct{ id, instructor string }
	rows, err := tx.Query(ctx, futureSQL, d.UserID, now)
	if err != nil {
		return fmt.Errorf("read future lessons: %w", err)
	}
	lessons, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lesson, error) {
		var l lesson
		return l, r.Scan(&l.id, &l.instructor)
	})
	if err != nil {
		return fmt.Errorf("read future lessons: %w", err)
	}
	for _, l := range lessons {
		if _, ok := locked[l.instructor]; !ok {
			loc, err := lockSchedule(ctx, tx, l.instructor)
			if err != nil {
				return err
			}
			locked[l.instructor] = loc
		}
		if _, err := db.cancelBookingTx(ctx, tx, d.Actor, l.id, deletionCancelReason, now); err != nil {
			return fmt.Errorf("cancel lesson %s: %w", l.id, err)
		}
		res.CancelledBookings = append(res.CancelledBookings, l.id)
	}

	if loc := locked[d.UserID]; isInstructor && loc != nil {
		// A deleted instructor offers no more time: their windows from today
		// on go, and watchers see those days close.
		rows, err := tx.Query(ctx, `DELETE FROM availability_windows WHERE instructor_id = $1 AND date >= $2
			RETURNING date`, d.UserID, localToday(now, loc))
		if err != nil {
			return fmt.Errorf("delete windows: %w", err)
		}
		dates, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return fmt.Errorf("delete windows: %w", err)
		}
		slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
		dates = slices.Compact(dates)
		if len(dates) > 0 {
			av, err := availabilityChangedEvent(ctx, tx, d.UserID, loc, dates)
			if err != nil {
				return err
			}
			if _, err := appendEvents(ctx, tx, []market.NewEvent{av}); err != nil {
				return err
			}
		}
	}

	err = guardLockout(ctx, tx, "id", func() error {
		for _, s := range accountScrubbers {
			if _, err := tx.Exec(ctx, s.sql, d.UserID); err != nil {
				return fmt.Errorf("scrub %s: %w", s.table, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	by := "self"
	if d.Actor.ID != d.UserID {
		by = "admin"
	}
	if err := auditTx(ctx, tx, market.AuditAccountDeleted, d.UserID, map[string]any{
		"by": by, "cancelled_bookings": len(res.CancelledBookings)}); err != nil {
		return err
	}
	_, err = appendEvents(ctx, tx, []market.NewEvent{{Topic: market.UserTopic(d.UserID),
		Type: market.EventAccountDeleted, Data: map[string]string{"user_id": d.UserID}}})
	return err
}

// futureInstructors lists the instructors of userID's future confirmed
// lessons (before any lock: it only decides which schedules to lock).
func futureInstructors(ctx context.Context, tx pgx.Tx, futureSQL, userID string, now time.Time) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT instructor_id::text FROM (`+futureSQL+`) f`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("read future lessons: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read future lessons: %w", err)
	}
	return ids, nil
}

// PasswordHash returns a live user's bcrypt hash (deletion asks for the
// password again), or ENOTFOUND.
func (db *DB) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash string
	err := db.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&hash)
	if err != nil {
		return "", translate(err)
	}
	return hash, nil
}
