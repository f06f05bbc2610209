package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// exportSection is one key of the data export. SQL takes the user id as $1
// and returns one JSON value per row (Single: at most one row, written as an
// object or null; otherwise an array). Tables names every table whose rows
// about the user the section carries: a test walks the schema and fails
// when a table that references users is in no section and not listed as
// deliberately not personal. A new table with personal data adds one line.
type exportSection struct {
	Name   string
	Tables []string
	Single bool
	SQL    string
}

// exportSections is everything stored about one user, in export order.
var exportSections = []exportSection{
	{Name: "account", Tables: []string{"users"}, Single: true, SQL: `
		SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'created_at', u.created_at,
			'email_verified_at', u.email_verified_at)
		FROM users u WHERE u.id = $1`},
	{Name: "roles", Tables: []string{"user_roles"}, SQL: `
		SELECT to_jsonb(r.role) FROM user_roles r WHERE r.user_id = $1 ORDER BY r.role`},
	{Name: "profile", Tables: []string{"instructor_profiles"}, Single: true, SQL: `
		SELECT to_jsonb(p) - 'user_id' FROM instructor_profiles p WHERE p.user_id = $1`},
	{Name: "offers", Tables: []string{"instructor_services"}, SQL: `
		SELECT to_jsonb(s) - 'instructor_id' || jsonb_build_object('service_name', sv.name)
		FROM instructor_services s JOIN services sv ON sv.id = s.service_id
		WHERE s.instructor_id = $1 ORDER BY s.created_at, s.id`},
	// The photo as the export's reader can open it: its public URLs (the
	// images themselves are what the page shows, re-encoded, no metadata).
	{Name: "photo", Tables: []string{"instructor_photos"}, Single: true, SQL: `
		SELECT jsonb_build_object('url', '/photos/' || ph.hash || '-320.jpg', 'small_url', '/photos/' || ph.hash || '-96.jpg',
			'uploaded_at', ph.created_at)
		FROM instructor_photos ph WHERE ph.instructor_id = $1`},
	{Name: "availability", Tables: []string{"availability_windows"}, SQL: `
		SELECT jsonb_build_object('id', w.id, 'date', w.date, 'start', to_char(w.start_time, 'HH24:MI'),
			'end', CASE WHEN w.end_time = '24:00' THEN '24:00' ELSE to_char(w.end_time, 'HH24:MI') END,
			'created_at', w.created_at)
		FROM availability_windows w WHERE w.instructor_id = $1 ORDER BY w.date, w.start_time`},
	// Both parties are entitled to the lesson, its note and the other
	// party's name; who cancelled is said by role, not by staff member id.
	{Name: "bookings", Tables: []string{"bookings"}, SQL: `
		SELECT to_jsonb(b) - 'during' - 'cancelled_by' || jsonb_build_object(
			'your_role', CASE WHEN b.student_id = $1 THEN 'student' ELSE 'instructor' END,
			'starts_at', lower(b.during), 'ends_at', upper(b.during),
			'service_name', sv.name,
			'student', jsonb_build_object('id', su.id, 'full_name', su.full_name),
			'instructor', jsonb_build_object('id', iu.id, 'full_name', iu.full_name),
			'cancelled_by', CASE WHEN b.cancelled_by IS NULL THEN NULL
				WHEN b.cancelled_by = $1 THEN 'you'
				WHEN b.cancelled_by IN (b.student_id, b.instructor_id) THEN 'other_party'
				ELSE 'staff' END)
		FROM bookings b
		JOIN users su ON su.id = b.student_id JOIN users iu ON iu.id = b.instructor_id
		JOIN instructor_services s ON s.id = b.instructor_service_id JOIN services sv ON sv.id = s.service_id
		WHERE b.student_id = $1 OR b.instructor_id = $1 OR b.cancelled_by = $1
		ORDER BY lower(b.during), b.id`},
	// A session is a refresh-token family; token hashes never leave.
	{Name: "sessions", Tables: []string{"refresh_tokens"}, SQL: `
		SELECT jsonb_build_object('started_at', min(t.created_at), 'last_used_at', max(t.used_at),
			'expires_at', max(t.expires_at),
			'user_agent', (array_agg(t.user_agent ORDER BY t.created_at DESC))[1],
			'active', bool_or(t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()))
		FROM refresh_tokens t WHERE t.user_id = $1
		GROUP BY t.family_id ORDER BY min(t.created_at)`},
	{Name: "booking_requests", Tables: []string{"idempotency_keys"}, SQL: `
		SELECT jsonb_build_object('idempotency_key', k.key, 'created_at', k.created_at)
		FROM idempotency_keys k WHERE k.user_id = $1 ORDER BY k.created_at`},
	{Name: "search_history", Tables: []string{"search_history"}, SQL: `
		SELECT jsonb_build_object('id', h.id, 'query', h.query, 'searched_at', h.searched_at, 'result_count', h.result_count)
		FROM search_history h WHERE h.user_id = $1 ORDER BY h.searched_at DESC`},
	{Name: "notifications", Tables: []string{"notifications"}, SQL: `
		SELECT to_jsonb(n) - 'user_id' - 'dedupe_key' FROM notifications n WHERE n.user_id = $1 ORDER BY n.created_at, n.id`},
	// Conversations: the other party by name, and every message of both
	// parties (each party is entitled to the whole thread).
	{Name: "conversations", Tables: []string{"conversations", "messages"}, SQL: `
		SELECT jsonb_build_object('id', c.id, 'created_at', c.created_at, 'updated_at', c.updated_at,
			'your_role', CASE WHEN c.student_id = $1 THEN 'student' ELSE 'instructor' END,
			'other', jsonb_build_object('id', o.id, 'full_name', o.full_name),
			'you_blocked', CASE WHEN c.student_id = $1 THEN c.blocked_by_student ELSE c.blocked_by_instructor END,
			'messages', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', m.id, 'from', CASE WHEN m.sender_id = $1 THEN 'you' ELSE 'other' END,
				'body', m.body, 'created_at', m.created_at) ORDER BY m.seq) FROM messages m WHERE m.conversation_id = c.id), '[]'))
		FROM conversations c JOIN users o ON o.id = CASE WHEN c.student_id = $1 THEN c.instructor_id ELSE c.student_id END
		WHERE $1 IN (c.student_id, c.instructor_id) ORDER BY c.created_at, c.id`},
	{Name: "notification_settings", Tables: []string{"notification_settings"}, Single: true, SQL: `
		SELECT to_jsonb(s) - 'user_id' FROM notification_settings s WHERE s.user_id = $1`},
	{Name: "emails", Tables: []string{"emails"}, SQL: `
		SELECT jsonb_build_object('id', e.id, 'template', e.template, 'created_at', e.created_at,
			'sent_at', e.sent_at, 'failed_at', e.failed_at, 'attempts', e.attempts)
		FROM emails e WHERE e.user_id = $1 ORDER BY e.created_at, e.id`},
	// Verification and reset links: when they were issued and used, never the hash.
	{Name: "account_tokens", Tables: []string{"account_tokens"}, SQL: `
		SELECT jsonb_build_object('purpose', t.purpose, 'created_at', t.created_at, 'expires_at', t.expires_at, 'used_at', t.used_at)
		FROM account_tokens t WHERE t.user_id = $1 ORDER BY t.created_at, t.id`},
	// The security log of the account: what was done to it or by it.
	{Name: "security_log", Tables: []string{"audit_log"}, SQL: `
		SELECT jsonb_build_object('at', a.at, 'action', a.action, 'ip', host(a.ip), 'request_id', a.request_id,
			'details', a.details,
			'by', CASE WHEN a.actor_user_id IS NULL THEN NULL WHEN a.actor_user_id = $1 THEN 'you' ELSE 'staff' END)
		FROM audit_log a WHERE a.target_user_id = $1 OR a.actor_user_id = $1
		ORDER BY a.at, a.id`},
}

// ExportFormat names the export document's version.
const ExportFormat = "instainstru-export/1"

// ExportUser writes everything stored about userID as one JSON object to w,
// section by section (rows are streamed, never all held in memory), from
// one consistent snapshot. Returns ENOTFOUND for an unknown or deleted user
// before anything is written.
func (db *DB) ExportUser(ctx context.Context, userID string, now time.Time, w io.Writer) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin export: %w", translate(err))
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // read-only
	var live bool
	err = tx.QueryRow(ctx, `SELECT deleted_at IS NULL FROM users WHERE id = $1`, userID).Scan(&live)
	if err != nil && market.ErrorCode(translate(err)) != market.ENOTFOUND {
		return fmt.Errorf("export: %w", err)
	}
	if err != nil || !live {
		return market.Errorf(market.ENOTFOUND, "user not found")
	}
	head, _ := json.Marshal(map[string]any{"format": ExportFormat, "exported_at": now.UTC(), "user_id": userID})
	if _, err := w.Write(head[:len(head)-1]); err != nil {
		return err
	}
	for _, s := range exportSections {
		if err := writeSection(ctx, tx, w, s, userID); err != nil {
			return fmt.Errorf("export %s: %w", s.Name, err)
		}
	}
	_, err = io.WriteString(w, "}\n")
	return err
}

func writeSection(ctx context.Context, tx pgx.Tx, w io.Writer, s exportSection, userID string) error {
	key, _ := json.Marshal(s.Name)
	if _, err := fmt.Fprintf(w, ",%s:", key); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, s.SQL, userID)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return err
		}
		sep := ","
		switch {
		case s.Single && n > 0:
			return fmt.Errorf("section %s returned more than one row", s.Name)
		case s.Single:
			sep = ""
		case n == 0:
			sep = "["
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(v); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var tail string
	switch {
	case s.Single && n == 0:
		tail = "null"
	case !s.Single && n == 0:
		tail = "[]"
	case !s.Single:
		tail = "]"
	}
	_, err = io.WriteString(w, tail)
	return err
}

// ExportTables lists the tables the export covers (for the schema test).
func ExportTables() []string {
	var out []string
	for _, s := range exportSections {
		out = append(out, s.Tables...)
	}
	return out
}
