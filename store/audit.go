package store

import (
	"context"
	"encoding/json"
	"fmt"
	"instainstru/market"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// execer is what both a pool and a transaction offer for statements.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Audit appends an entry outside any transaction (login, logout, export):
// actor, request id and IP come from ctx's RequestMeta.
func (db *DB) Audit(ctx context.Context, action, targetID string, details map[string]any) error {
	return insertAudit(ctx, db.pool, action, targetID, details)
}

// auditTx appends an entry in tx, so it commits or rolls back with the
// change it records.
func auditTx(ctx context.Context, tx pgx.Tx, action, targetID string, details map[string]any) error {
	return insertAudit(ctx, tx, action, targetID, details)
}

func insertAudit(ctx context.Context, q execer, action, targetID string, details map[string]any) error {
	m := market.RequestMetaFrom(ctx)
	if details == nil {
		details = map[string]any{}
	}
	body, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encode audit details: %w", err)
	}
	var ip *netip.Addr
	if a, err := netip.ParseAddr(m.IP); err == nil {
		ip = &a
	}
	if _, err := q.Exec(ctx, `INSERT INTO audit_log (actor_user_id, target_user_id, action, request_id, ip, details)
		VALUES ($1, $2, $3, $4, $5, $6)`, nullUUID(m.ActorID), nullUUID(targetID), action, nullText(m.RequestID), ip, body); err != nil {
		return fmt.Errorf("append audit %s: %w", action, translate(err))
	}
	return nil
}

func nullUUID(s string) *string {
	if _, err := parseUUID(s); err != nil {
		return nil
	}
	return &s
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AuditEntries returns up to q.Limit entries, newest first, and whether more
// follow.
func (db *DB) AuditEntries(ctx context.Context, q market.AuditQuery) ([]market.AuditEntry, bool, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	var from, to *time.Time
	if !q.From.IsZero() {
		from = &q.From
	}
	if !q.To.IsZero() {
		to = &q.To
	}
	var after *int64
	if q.AfterID > 0 {
		after = &q.AfterID
	}
	rows, err := db.pool.Query(ctx, `SELECT l.id, l.at, COALESCE(l.actor_user_id::text, ''), COALESCE(l.target_user_id::text, ''),
			l.action, COALESCE(l.request_id, ''), COALESCE(host(l.ip), ''), l.details,
			COALESCE(au.full_name, ''), COALESCE(tu.full_name, '')
		FROM audit_log l LEFT JOIN users au ON au.id = l.actor_user_id LEFT JOIN users tu ON tu.id = l.target_user_id
		WHERE ($1::uuid IS NULL OR l.actor_user_id = $1 OR l.target_user_id = $1)
		  AND ($2 = '' OR l.action = $2)
		  AND ($3::timestamptz IS NULL OR l.at >= $3)
		  AND ($4::timestamptz IS NULL OR l.at < $4)
		  AND ($5::bigint IS NULL OR l.id < $5)
		ORDER BY l.id DESC LIMIT $6`, nullUUID(q.UserID), q.Action, from, to, after, q.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("read audit: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.AuditEntry, error) {
		var e market.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.TargetID, &e.Action, &e.RequestID, &e.IP, &e.Details, &e.ActorName, &e.TargetName)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read audit: %w", translate(err))
	}
	more := len(out) > q.Limit
	if more {
		out = out[:q.Limit]
	}
	return out, more, nil
}

// sessionUserAgent is the request's user agent as a session shows it in the
// export, cut to the column's 256 bytes on a rune boundary.
func sessionUserAgent(ctx context.Context) string {
	// Headers are bytes: Postgres text refuses NUL and invalid UTF-8.
	ua := strings.ReplaceAll(strings.ToValidUTF8(market.RequestMetaFrom(ctx).UserAgent, ""), "\x00", "")
	if len(ua) <= 256 {
		return ua
	}
	ua = ua[:256]
	for len(ua) > 0 && !utf8.ValidString(ua) {
		ua = ua[:len(ua)-1]
	}
	return ua
}
