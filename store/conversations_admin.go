package store

import (
	"context"
	"fmt"

	"instainstru/market"
)

// AdminConversation is the support view of conversation id: both parties,
// block flags and a page of messages (newest first, older than before when
// given). The caller audits the view. ENOTFOUND when it does not exist.
func (db *DB) AdminConversation(ctx context.Context, id, before string, limit int) (*market.AdminConversation, error) {
	var (
		c                      market.AdminConversation
		studentRead, instrRead *string
	)
	err := db.pool.QueryRow(ctx, `SELECT c.id, su.id, su.full_name, iu.id, iu.full_name, c.created_at, c.updated_at,
		c.blocked_by_student, c.blocked_by_instructor, c.student_read_id, c.instructor_read_id
		FROM conversations c JOIN users su ON su.id = c.student_id JOIN users iu ON iu.id = c.instructor_id
		WHERE c.id = $1`, id).Scan(&c.ID, &c.Student.ID, &c.Student.FullName, &c.Instructor.ID, &c.Instructor.FullName,
		&c.CreatedAt, &c.UpdatedAt, &c.BlockedByStudent, &c.BlockedByInstructor, &studentRead, &instrRead)
	if market.ErrorCode(translate(err)) == market.ENOTFOUND {
		return nil, market.Errorf(market.ENOTFOUND, "conversation not found")
	}
	if err != nil {
		return nil, fmt.Errorf("read conversation: %w", translate(err))
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	items, err := messagePage(ctx, db.pool, id, before, limit)
	if err != nil {
		return nil, err
	}
	c.Messages = market.MessagePage{Items: items, ReadUpTo: map[string]*string{c.Student.ID: studentRead, c.Instructor.ID: instrRead}}
	return &c, nil
}
