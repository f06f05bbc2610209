package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/market"
)

// messagePreviewLen is how many characters of a message its email quotes.
const messagePreviewLen = 200

// EmailUnreadMessage runs when a message_unread job falls due: if the
// recipient still has not read up to the message, still wants email and
// still exists, it queues one "message.unread" email and reports true.
// One email per conversation and read position: until the recipient reads,
// later messages of the same conversation add no second email (the dedupe
// key names the read position), and a retried job is a no-op.
func (db *DB) EmailUnreadMessage(ctx context.Context, j jobs.MessageUnread) (queued bool, err error) {
	err = db.transact(ctx, func(tx pgx.Tx) error {
		queued = false
		var (
			seq, readSeq int64
			body, sender string
			live, wants  bool
		)
		err := tx.QueryRow(ctx, `SELECT m.seq, m.body, su.full_name,
			CASE WHEN c.student_id = $2 THEN c.student_read_seq ELSE c.instructor_read_seq END,
			ru.deleted_at IS NULL, COALESCE(ns.email, true)
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN users su ON su.id = m.sender_id JOIN users ru ON ru.id = $2
			LEFT JOIN notification_settings ns ON ns.user_id = $2
			WHERE m.id = $1 AND $2 IN (c.student_id, c.instructor_id) AND m.sender_id <> $2`,
			j.MessageID, j.RecipientID).Scan(&seq, &body, &sender, &readSeq, &live, &wants)
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil // the message or an account is gone
		}
		if err != nil {
			return fmt.Errorf("read unread message: %w", err)
		}
		if readSeq >= seq || !live || !wants || body == "" {
			return nil
		}
		key := "message-unread:" + j.ConversationID + ":" + j.RecipientID + ":" + strconv.FormatInt(readSeq, 10)
		js, err := insertEmail(ctx, tx, NewEmail{UserID: j.RecipientID, Template: "message.unread", Key: key,
			Data: map[string]any{"sender": sender, "preview": preview(body, messagePreviewLen),
				"conversation_id": j.ConversationID, "path": "/#/messages/" + j.ConversationID}})
		if err != nil || len(js) == 0 {
			return err
		}
		queued = true
		return db.jobs.InsertTx(ctx, tx, js...)
	})
	return queued, err
}

// preview is s cut to at most n characters, with "…" when cut.
func preview(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
