package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/market"
)

// sendFacts is what a send reads under the conversation's row lock.
type sendFacts struct {
	found                             bool
	pair                              market.Pair
	blockedByStudent, blockedByInstr  bool
	studentDeleted, instructorDeleted bool
	lastSeq                           int64
	now                               time.Time
	idempotencyClaim
}

// SendMessage writes a message in one transaction with its outbox events
// (message.created on both parties' user topics) and, when nm.EmailAfter
// is set, the job that emails the recipient if the message is still unread
// by then. With an idempotency key, a repeat of the same send answers the
// first message (Replay) and writes nothing. Errors: ENOTFOUND for anyone
// but the two parties, EBLOCKED when the other party blocked the sender,
// EFORBIDDEN when the other account is deleted, EVALIDATION for a bad body,
// EIDEMPOTENCY for a key reused with another request.
func (db *DB) SendMessage(ctx context.Context, nm market.NewMessage) (*market.MessageResult, error) {
	body, err := market.NormalizeMessageBody(nm.Body)
	if err != nil {
		return nil, err
	}
	var res *market.MessageResult
	err = db.transact(ctx, func(tx pgx.Tx) error {
		hash := requestHash("message", nm.ConversationID, body)
		f, err := readSendFacts(ctx, tx, nm, hash)
		if err != nil {
			return err
		}
		if nm.IdempotencyKey != "" && !f.claimed {
			return replayMessage(f, hash, &res)
		}
		if !f.found {
			return market.Errorf(market.ENOTFOUND, "conversation not found")
		}
		other := f.pair.Other(nm.SenderID)
		if err := market.CanSend(market.SendFacts{SenderID: nm.SenderID, Pair: f.pair,
			BlockedBy:    map[string]bool{f.pair.StudentID: f.blockedByStudent, f.pair.InstructorID: f.blockedByInstr},
			OtherDeleted: other == f.pair.StudentID && f.studentDeleted || other == f.pair.InstructorID && f.instructorDeleted,
		}); err != nil {
			return err
		}
		m := market.Message{ID: uuid.NewString(), SenderID: nm.SenderID, Body: body, CreatedAt: f.now.UTC()}
		if err := writeMessage(ctx, tx, nm, f, m); err != nil {
			return err
		}
		if nm.EmailAfter > 0 {
			j := jobs.Job{At: f.now.Add(nm.EmailAfter), Args: jobs.MessageUnread{
				ConversationID: nm.ConversationID, MessageID: m.ID, RecipientID: other}}
			if err := db.jobs.InsertTx(ctx, tx, j); err != nil {
				return err
			}
		}
		res = &market.MessageResult{Message: m}
		return nil
	})
	return res, err
}

// readSendFacts claims the idempotency key (if any) and locks the
// conversation row, reading its parties, block flags and numbering, in one
// round trip. Strangers lock nothing: the row is selected only for a party.
func readSendFacts(ctx context.Context, tx pgx.Tx, nm market.NewMessage, hash []byte) (*sendFacts, error) {
	f := &sendFacts{}
	b := &pgx.Batch{}
	f.idempotencyClaim.queue(b, nm.SenderID, nm.IdempotencyKey, hash)
	b.Queue(`SELECT c.student_id, c.instructor_id, c.blocked_by_student, c.blocked_by_instructor,
		su.deleted_at IS NOT NULL, iu.deleted_at IS NOT NULL, c.last_seq, clock_timestamp()
		FROM conversations c JOIN users su ON su.id = c.student_id JOIN users iu ON iu.id = c.instructor_id
		WHERE c.id = $1 AND $2 IN (c.student_id, c.instructor_id) FOR UPDATE OF c`, nm.ConversationID, nm.SenderID).
		QueryRow(func(row pgx.Row) error {
			return noRowOK(row.Scan(&f.pair.StudentID, &f.pair.InstructorID, &f.blockedByStudent, &f.blockedByInstr,
				&f.studentDeleted, &f.instructorDeleted, &f.lastSeq, &f.now), &f.found, "lock conversation")
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("send message: %w", err)
	}
	return f, nil
}

// replayMessage answers a repeated idempotency key with the stored message.
func replayMessage(f *sendFacts, hash []byte, res **market.MessageResult) error {
	stored, err := storedAnswer(f.storedHash, hash, f.storedBody)
	if err != nil {
		return err
	}
	var m market.Message
	if err := json.Unmarshal(stored.Body, &m); err != nil {
		return fmt.Errorf("decode stored message: %w", err)
	}
	*res = &market.MessageResult{Message: m, Replay: true}
	return nil
}

// writeMessage inserts m as the conversation's next message, counts it
// unread for the recipient, stores the idempotent answer and appends
// message.created to both parties' topics, in one round trip.
func writeMessage(ctx context.Context, tx pgx.Tx, nm market.NewMessage, f *sendFacts, m market.Message) error {
	seq := f.lastSeq + 1
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO messages (id, conversation_id, seq, sender_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.ID, nm.ConversationID, seq, m.SenderID, m.Body, m.CreatedAt)
	b.Queue(`UPDATE conversations SET last_seq = $2, updated_at = $3,
		student_unread = student_unread + CASE WHEN $4::uuid = instructor_id THEN 1 ELSE 0 END,
		instructor_unread = instructor_unread + CASE WHEN $4::uuid = student_id THEN 1 ELSE 0 END
		WHERE id = $1`, nm.ConversationID, seq, m.CreatedAt, m.SenderID)
	if nm.IdempotencyKey != "" {
		body, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
		b.Queue(saveIdempotentResponseSQL, nm.SenderID, nm.IdempotencyKey, body)
	}
	data := market.MessageCreated{ConversationID: nm.ConversationID, Message: m}
	q, err := queueEvents(tx, b, []market.NewEvent{
		{Topic: market.UserTopic(f.pair.StudentID), Type: market.EventMessageCreated, Data: data},
		{Topic: market.UserTopic(f.pair.InstructorID), Type: market.EventMessageCreated, Data: data},
	})
	if err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write message: %w", translate(err))
	}
	q.done()
	return nil
}

// partyColumns names the read position, unread counter and block flag
// columns of the party userID is in pair (never user input).
func partyColumns(pair market.Pair, userID string) (readSeq, readID, unread, blocked string) {
	if userID == pair.StudentID {
		return "student_read_seq", "student_read_id", "student_unread", "blocked_by_student"
	}
	return "instructor_read_seq", "instructor_read_id", "instructor_unread", "blocked_by_instructor"
}

// MarkConversationRead moves userID's read position in convID forward to
// messageID and recounts their unread messages after it; it pushes
// conversation.read {"conversation_id","reader_id","message_id"} to both
// parties. A position at or past messageID is left as it is (no event).
// ENOTFOUND for anyone but the parties; EVALIDATION when messageID is not
// a message of the conversation.
func (db *DB) MarkConversationRead(ctx context.Context, userID, convID, messageID string) error {
	return db.transact(ctx, func(tx pgx.Tx) error {
		var pair market.Pair
		var studentSeq, instructorSeq int64
		err := tx.QueryRow(ctx, `SELECT student_id, instructor_id, student_read_seq, instructor_read_seq
			FROM conversations WHERE id = $1 AND $2 IN (student_id, instructor_id) FOR UPDATE`, convID, userID).
			Scan(&pair.StudentID, &pair.InstructorID, &studentSeq, &instructorSeq)
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return market.Errorf(market.ENOTFOUND, "conversation not found")
		}
		if err != nil {
			return fmt.Errorf("lock conversation: %w", err)
		}
		var seq int64
		err = tx.QueryRow(ctx, `SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2`, messageID, convID).Scan(&seq)
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return market.ValidationError(map[string]string{"message_id": "is not a message of this conversation"})
		}
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		mine := instructorSeq
		if userID == pair.StudentID {
			mine = studentSeq
		}
		if seq <= mine {
			return nil // already read this far
		}
		readSeq, readID, unread, _ := partyColumns(pair, userID)
		if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE conversations SET %s = $2, %s = $3,
			%s = (SELECT count(*) FROM messages m WHERE m.conversation_id = $1 AND m.seq > $2 AND m.sender_id <> $4)
			WHERE id = $1`, readSeq, readID, unread), convID, seq, messageID, userID); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		data := market.ConversationRead{ConversationID: convID, ReaderID: userID, MessageID: messageID}
		_, err = appendEvents(ctx, tx, []market.NewEvent{
			{Topic: market.UserTopic(pair.StudentID), Type: market.EventConversationRead, Data: data},
			{Topic: market.UserTopic(pair.InstructorID), Type: market.EventConversationRead, Data: data},
		})
		return err
	})
}

// SetConversationBlocked records whether userID blocks the other party of
// convID: while blocked, the other party's sends answer EBLOCKED (the
// blocker may still write). ENOTFOUND for anyone but the parties.
func (db *DB) SetConversationBlocked(ctx context.Context, userID, convID string, blocked bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE conversations SET
		blocked_by_student = CASE WHEN student_id = $2 THEN $3 ELSE blocked_by_student END,
		blocked_by_instructor = CASE WHEN instructor_id = $2 THEN $3 ELSE blocked_by_instructor END
		WHERE id = $1 AND $2 IN (student_id, instructor_id)`, convID, userID, blocked)
	if err != nil {
		return fmt.Errorf("block conversation: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return market.Errorf(market.ENOTFOUND, "conversation not found")
	}
	return nil
}
