package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// Lesson outcomes, as implemented here:
//
//   - CompleteLessons marks confirmed lessons that ended by `now` completed,
//     a bounded batch per call, each with booking.completed to both parties
//     in the same transaction. Rows another transaction holds (an
//     instructor reporting a no-show) are skipped and picked up next time,
//     so several nodes may run it at once without double events.
//   - MarkNoShow lets the lesson's instructor report, within
//     market.NoShowWindow after the end, that the student did not come.
//     It applies to confirmed and completed lessons, so whichever of the job
//     and the instructor runs first, the final state is no_show.

// CompleteLessons completes up to limit confirmed lessons whose end is at
// or before now, oldest first, and returns them; their events are
// booking.completed on both parties' user topics.
func (db *DB) CompleteLessons(ctx context.Context, now time.Time, limit int) ([]market.Booking, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("complete lessons: limit %d must be positive", limit)
	}
	var done []market.Booking
	err := db.transact(ctx, func(tx pgx.Tx) error {
		done = nil
		rows, err := tx.Query(ctx, `
			WITH due AS (
				SELECT id FROM bookings WHERE status = 'confirmed' AND upper(during) <= $1
				ORDER BY upper(during), id LIMIT $2 FOR UPDATE SKIP LOCKED),
			b AS (
				UPDATE bookings SET status = 'completed', outcome_at = now(), updated_at = now()
				FROM due WHERE bookings.id = due.id RETURNING bookings.*)
			SELECT `+bookingColumns+` FROM b`+bookingJoins+`
			ORDER BY upper(b.during), b.id`, now, limit)
		if err != nil {
			return fmt.Errorf("complete lessons: %w", err)
		}
		done, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Booking, error) {
			b, err := scanBooking(r)
			if err != nil {
				return market.Booking{}, err
			}
			return *b, nil
		})
		if err != nil {
			return fmt.Errorf("complete lessons: %w", err)
		}
		if len(done) == 0 {
			return nil
		}
		news := make([]market.NewEvent, 0, 2*len(done))
		for i := range done {
			b := &done[i]
			news = append(news,
				market.NewEvent{Topic: market.UserTopic(b.InstructorID), Type: market.EventBookingCompleted, Data: b},
				market.NewEvent{Topic: market.UserTopic(b.StudentID), Type: market.EventBookingCompleted, Data: b})
		}
		_, err = appendEvents(ctx, tx, news)
		return err
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// MarkNoShow records that the student did not come to lesson id. Only the
// lesson's instructor may (EFORBIDDEN for its student or an admin;
// ENOTFOUND for anyone else), between its end and market.NoShowWindow
// after it, while it is confirmed or completed (ECONFLICT otherwise). It
// returns the booking; its event is booking.no_show to both parties.
func (db *DB) MarkNoShow(ctx context.Context, actor *market.User, id string, now func() time.Time) (*market.Booking, error) {
	var b *market.Booking
	err := db.transact(ctx, func(tx pgx.Tx) error {
		cur, err := bookingByID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		switch {
		case actor.ID == cur.InstructorID:
		case participates(actor, cur):
			return market.Errorf(market.EFORBIDDEN, "only the lesson's instructor can report a no-show")
		default:
			return market.Errorf(market.ENOTFOUND, "booking not found")
		}
		t := nowFunc(now)
		switch {
		case cur.Status != market.BookingConfirmed && cur.Status != market.BookingCompleted:
			return &market.Error{Code: market.ECONFLICT, Message: fmt.Sprintf("booking is %s", cur.Status),
				Details: map[string]any{"status": cur.Status}}
		case t.Before(cur.EndsAt):
			return &market.Error{Code: market.ECONFLICT, Message: "the lesson has not ended yet",
				Details: map[string]any{"ends_at": cur.EndsAt}}
		case t.After(cur.EndsAt.Add(market.NoShowWindow)):
			return &market.Error{Code: market.ECONFLICT,
				Message: fmt.Sprintf("a no-show can be reported up to %d hours after the lesson ends", int(market.NoShowWindow/time.Hour)),
				Details: map[string]any{"ends_at": cur.EndsAt}}
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET status = 'no_show', outcome_at = now(), updated_at = now()
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("mark no-show: %w", err)
		}
		if b, err = bookingByID(ctx, tx, id, false); err != nil {
			return err
		}
		_, err = appendEvents(ctx, tx, []market.NewEvent{
			{Topic: market.UserTopic(b.InstructorID), Type: market.EventBookingNoShow, Data: b},
			{Topic: market.UserTopic(b.StudentID), Type: market.EventBookingNoShow, Data: b},
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}
