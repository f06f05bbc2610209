package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// Conversations, as implemented here (docs/features/conversations.md):
//
//   - One row per (student, instructor) pair; the row is the conversation's
//     lock. A send takes it FOR UPDATE, numbers its message last_seq + 1,
//     bumps the recipient's unread counter and writes message.created on
//     both parties' user topics — all in one transaction (messages.go).
//   - A party's read position is the seq and id of the last message they
//     marked read; unread counters live in the row, so the list and the
//     total need no count over messages.
//   - Anyone but the two parties gets ENOTFOUND for every call, so a
//     conversation's existence is never revealed.

// conversationSelect reads one party's ($1) view of conversations c: the
// other party, the caller's unread counter and block flags, and the newest
// message (none when the conversation is empty).
const conversationSelect = `SELECT c.id, c.updated_at, o.id, o.full_name,
	ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = o.id ORDER BY r.role),
	CASE WHEN c.student_id = $1 THEN c.student_unread ELSE c.instructor_unread END,
	CASE WHEN c.student_id = $1 THEN c.blocked_by_student ELSE c.blocked_by_instructor END,
	CASE WHEN c.student_id = $1 THEN c.blocked_by_instructor ELSE c.blocked_by_student END,
	m.id, m.sender_id, m.body, m.created_at
	FROM conversations c
	JOIN users o ON o.id = CASE WHEN c.student_id = $1 THEN c.instructor_id ELSE c.student_id END
	LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq AND c.last_seq > 0`

func scanConversation(row pgx.Row) (*market.Conversation, error) {
	var (
		c                   market.Conversation
		mID, mSender, mBody *string
		mAt                 *time.Time
	)
	if err := row.Scan(&c.ID, &c.UpdatedAt, &c.Other.ID, &c.Other.FullName, &c.Other.Roles, &c.Unread,
		&c.Blocked, &c.BlockedBy, &mID, &mSender, &mBody, &mAt); err != nil {
		return nil, err
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	if mID != nil {
		c.LastMessage = &market.Message{ID: *mID, SenderID: *mSender, Body: *mBody, CreatedAt: mAt.UTC()}
	}
	return &c, nil
}

// conversationFor is userID's view of conversation id, or ENOTFOUND when
// it does not exist or userID is not a party.
func conversationFor(ctx context.Context, q rowQuerier, userID, id string) (*market.Conversation, error) {
	c, err := scanConversation(q.QueryRow(ctx, conversationSelect+`
		WHERE c.id = $2 AND $1 IN (c.student_id, c.instructor_id)`, userID, id))
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "conversation not found")
		}
		return nil, fmt.Errorf("read conversation: %w", translate(err))
	}
	return c, nil
}

// openFactsSQL reads what market.CanOpen needs to know about the other
// person ($1) for the opener ($2).
const openFactsSQL = `SELECT u.deleted_at IS NULL,
	ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role),
	EXISTS (SELECT 1 FROM instructor_profiles p WHERE p.user_id = u.id),
	EXISTS (SELECT 1 FROM bookings b WHERE b.student_id = u.id AND b.instructor_id = $2),
	EXISTS (SELECT 1 FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.sender_id = u.id
		WHERE c.student_id = u.id AND c.instructor_id = $2)
	FROM users u WHERE u.id = $1`

// OpenConversation opens (or finds) the conversation of opener with
// otherID under market.CanOpen's rules and returns the opener's view of it
// and whether it was created now.
func (db *DB) OpenConversation(ctx context.Context, opener *market.User, otherID string) (*market.Conversation, bool, error) {
	var (
		conv    *market.Conversation
		created bool
	)
	err := db.transact(ctx, func(tx pgx.Tx) error {
		f := market.OpenFacts{OpenerID: opener.ID, OpenerRoles: opener.Roles, OtherID: otherID}
		err := tx.QueryRow(ctx, openFactsSQL, otherID, opener.ID).Scan(&f.OtherLive, &f.OtherRoles, &f.OtherTeaches,
			&f.OtherBookedOpener, &f.OtherWroteFirst)
		if err != nil && market.ErrorCode(translate(err)) != market.ENOTFOUND {
			return fmt.Errorf("read conversation facts: %w", err)
		}
		f.OtherTeaches = f.OtherTeaches && hasString(f.OtherRoles, market.RoleInstructor)
		pair, err := market.CanOpen(f)
		if err != nil {
			return err
		}
		var id string
		err = tx.QueryRow(ctx, `INSERT INTO conversations (student_id, instructor_id, created_by) VALUES ($1, $2, $3)
			ON CONFLICT (student_id, instructor_id) DO NOTHING RETURNING id`, pair.StudentID, pair.InstructorID, opener.ID).Scan(&id)
		created = err == nil
		if !created {
			if market.ErrorCode(translate(err)) != market.ENOTFOUND {
				return fmt.Errorf("open conversation: %w", err)
			}
			if err := tx.QueryRow(ctx, `SELECT id FROM conversations WHERE student_id = $1 AND instructor_id = $2`,
				pair.StudentID, pair.InstructorID).Scan(&id); err != nil {
				return fmt.Errorf("find conversation: %w", err)
			}
		}
		conv, err = conversationFor(ctx, tx, opener.ID, id)
		return err
	})
	return conv, created, err
}

func hasString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Conversation is userID's view of conversation id (ENOTFOUND for anyone
// but its two parties).
func (db *DB) Conversation(ctx context.Context, userID, id string) (*market.Conversation, error) {
	return conversationFor(ctx, db.pool, userID, id)
}

// Conversations lists userID's conversations, newest activity first: those
// with at least one message and those the user opened. limit is 1..100;
// cursor is the previous page's next_cursor. Unread is the user's unread
// messages over all their conversations.
func (db *DB) Conversations(ctx context.Context, userID string, limit int, cursor string) (*market.ConversationPage, error) {
	args := []any{userID, limit + 1}
	where := `WHERE $1 IN (c.student_id, c.instructor_id) AND (c.last_seq > 0 OR c.created_by = $1)`
	if cursor != "" {
		at, id, err := decodeConversationCursor(cursor)
		if err != nil {
			return nil, err
		}
		where += ` AND (c.updated_at, c.id) < ($3, $4)`
		args = append(args, at, id)
	}
	rows, err := db.pool.Query(ctx, conversationSelect+" "+where+` ORDER BY c.updated_at DESC, c.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", translate(err))
	}
	page := &market.ConversationPage{Items: []market.Conversation{}}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		page.Items = append(page.Items, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list conversations: %w", translate(err))
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		next := encodeConversationCursor(last.UpdatedAt, last.ID)
		page.NextCursor = &next
	}
	page.Unread, err = db.UnreadMessages(ctx, userID)
	return page, err
}

// UnreadMessages is userID's unread messages over all their conversations
// (the figure the page shows beside the bell).
func (db *DB) UnreadMessages(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT COALESCE(sum(student_unread), 0) FROM conversations WHERE student_id = $1) +
		(SELECT COALESCE(sum(instructor_unread), 0) FROM conversations WHERE instructor_id = $1)`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread messages: %w", translate(err))
	}
	return n, nil
}

func encodeConversationCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeConversationCursor(s string) (time.Time, string, error) {
	bad := market.ValidationError(map[string]string{"cursor": "is not a cursor of this list"})
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if _, uerr := uuid.Parse(id); !ok || err != nil || uerr != nil {
		return time.Time{}, "", bad
	}
	return t, id, nil
}

// Messages is a page of conversation convID's messages for userID, newest
// first, older than message before (if given), and both parties' read
// positions. ENOTFOUND for anyone but the two parties, and for a before
// that is not a message of the conversation.
func (db *DB) Messages(ctx context.Context, userID, convID, before string, limit int) (*market.MessagePage, error) {
	var student, instructor string
	var studentRead, instructorRead *string
	err := db.pool.QueryRow(ctx, `SELECT student_id, instructor_id, student_read_id, instructor_read_id
		FROM conversations WHERE id = $1 AND $2 IN (student_id, instructor_id)`, convID, userID).
		Scan(&student, &instructor, &studentRead, &instructorRead)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "conversation not found")
		}
		return nil, fmt.Errorf("read conversation: %w", translate(err))
	}
	items, err := messagePage(ctx, db.pool, convID, before, limit)
	if err != nil {
		return nil, err
	}
	return &market.MessagePage{Items: items, ReadUpTo: map[string]*string{student: studentRead, instructor: instructorRead}}, nil
}

// messagePage reads up to limit messages of convID older than before
// (empty: the newest), newest first.
func messagePage(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, convID, before string, limit int) ([]market.Message, error) {
	sql := `SELECT id, sender_id, body, created_at FROM messages WHERE conversation_id = $1`
	args := []any{convID, limit}
	if before != "" {
		sql += ` AND seq < (SELECT seq FROM messages WHERE id = $3 AND conversation_id = $1)`
		args = append(args, before)
	}
	rows, err := q.Query(ctx, sql+` ORDER BY seq DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", translate(err))
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.Message, error) {
		var m market.Message
		err := r.Scan(&m.ID, &m.SenderID, &m.Body, &m.CreatedAt)
		m.CreatedAt = m.CreatedAt.UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", translate(err))
	}
	return items, nil
}
