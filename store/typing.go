package store

import (
	"context"
	"fmt"

	"instainstru/market"
)

// TypingPeer implements hub.TypingRelay: the other party of conversation
// convID when userID is one of its parties and may write there (the rules
// of market.CanSend). ENOTFOUND for anyone else or no such conversation;
// EFORBIDDEN when the other party blocked userID or deleted their account.
// One primary-key read per typing frame (the page sends at most one every
// few seconds while its user types).
func (db *DB) TypingPeer(ctx context.Context, userID, convID string) (string, error) {
	var (
		pair               market.Pair
		byStudent, byInstr bool
		studDel, instrDel  bool
	)
	err := db.pool.QueryRow(ctx, `SELECT c.student_id, c.instructor_id, c.blocked_by_student, c.blocked_by_instructor,
		su.deleted_at IS NOT NULL, iu.deleted_at IS NOT NULL
		FROM conversations c JOIN users su ON su.id = c.student_id JOIN users iu ON iu.id = c.instructor_id
		WHERE c.id = $1 AND $2 IN (c.student_id, c.instructor_id)`, convID, userID).
		Scan(&pair.StudentID, &pair.InstructorID, &byStudent, &byInstr, &studDel, &instrDel)
	if market.ErrorCode(translate(err)) == market.ENOTFOUND {
		return "", market.Errorf(market.ENOTFOUND, "conversation not found")
	}
	if err != nil {
		return "", fmt.Errorf("typing peer: %w", translate(err))
	}
	other := pair.Other(userID)
	err = market.CanSend(market.SendFacts{SenderID: userID, Pair: pair,
		BlockedBy:    map[string]bool{pair.StudentID: byStudent, pair.InstructorID: byInstr},
		OtherDeleted: other == pair.StudentID && studDel || other == pair.InstructorID && instrDel})
	if market.ErrorCode(err) == market.EBLOCKED {
		return "", market.Errorf(market.EFORBIDDEN, "you cannot write in this conversation")
	}
	return other, err
}
