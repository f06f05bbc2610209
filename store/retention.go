package store

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Retention kinds: the label of instainstru_retention_removed_total.
const (
	RetentionRefreshTokens     = "refresh_tokens"     // expired or revoked refresh tokens
	RetentionAudit             = "audit"              // audit entries past their period
	RetentionLessonNotes       = "lesson_notes"       // notes, cancel reasons and addresses of old lessons (blanked, lessons stay)
	RetentionReadNotifications = "read_notifications" // notifications read longer ago
	RetentionEmails            = "emails"             // sent or failed emails
	RetentionSearchHistory     = "search_history"     // searches last made longer ago
	RetentionEvents            = "events"             // published events past the resume window
	RetentionIdempotencyKeys   = "idempotency_keys"   // keys older than a client may retry
	RetentionMessages          = "messages"           // conversation messages sent longer ago
	RetentionSearchLog         = "search_log"         // anonymous search counts (analytics)
	RetentionPageViews         = "page_views"         // instructor-page views (analytics)
)

// retentionJobs are the bounded statements of each kind. $1 is the cutoff
// (rows older than it go), $2 the batch size; each statement touches at most
// one batch and reports the rows it touched, so no lock is held for long.
// SKIP LOCKED keeps a pass from waiting on rows a request holds. A new
// kind adds one line here and one default in RetentionConfig.
var retentionJobs = map[string]string{
	// Spent tokens stay until they expire: presenting one must still be
	// recognised as reuse and revoke its family.
	RetentionRefreshTokens: `DELETE FROM refresh_tokens WHERE id IN (
		SELECT id FROM refresh_tokens WHERE expires_at < $1 OR revoked_at < $1
		LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	RetentionAudit: `DELETE FROM audit_log WHERE id IN (
		SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	RetentionLessonNotes: `UPDATE bookings SET note = '', cancel_reason = NULL, address = NULL WHERE id IN (
		SELECT id FROM bookings WHERE upper(during) < $1 AND (note <> '' OR cancel_reason IS NOT NULL OR address IS NOT NULL)
		LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	RetentionReadNotifications: `DELETE FROM notifications WHERE id IN (
		SELECT id FROM notifications WHERE read_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	// Only finished emails (sent, or given up on) go.
	RetentionEmails: `DELETE FROM emails WHERE id IN (
		SELECT id FROM emails WHERE COALESCE(sent_at, failed_at) < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	RetentionSearchHistory: `DELETE FROM search_history WHERE id IN (
		SELECT id FROM search_history WHERE searched_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	// Only published events go (the relay still owes the others), oldest
	// first, so a topic's kept history stays a contiguous tail (topic_seqs
	// keeps the counters: seq never restarts, and a resume from before the
	// oldest kept event gets a reset).
	RetentionEvents: `DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE created_at < $1 AND published_at IS NOT NULL
		ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	// Old messages go; the conversation row stays (its counters may then
	// name messages that are gone: the list shows no last message).
	RetentionMessages: `DELETE FROM messages WHERE id IN (
		SELECT id FROM messages WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	// A retry that late is a new request.
	RetentionIdempotencyKeys: `DELETE FROM idempotency_keys WHERE (user_id, key) IN (
		SELECT user_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	// Anyone can add these rows (a search, a page view): without a period
	// they grow without bound.
	RetentionSearchLog: `DELETE FROM search_log WHERE id IN (
		SELECT id FROM search_log WHERE searched_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	RetentionPageViews: `DELETE FROM instructor_page_views WHERE id IN (
		SELECT id FROM instructor_page_views WHERE viewed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
}

// Prune applies kind's retention to rows older than cutoff, one batch per
// transaction until a batch comes back short, and returns how many rows it
// removed (or blanked).
func (db *DB) Prune(ctx context.Context, kind string, cutoff time.Time, batch int) (int64, error) {
	sql, ok := retentionJobs[kind]
	if !ok {
		return 0, fmt.Errorf("unknown retention kind %q", kind)
	}
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		var n int64
		err := db.transact(ctx, func(tx pgx.Tx) error {
			if kind == RetentionAudit {
				// The append-only trigger lets this transaction, and only it, delete.
				if _, err := tx.Exec(ctx, `SET LOCAL instainstru.audit_prune = 'on'`); err != nil {
					return err
				}
			}
			tag, err := tx.Exec(ctx, sql, cutoff, batch)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", kind, err)
		}
		total += n
		if n < int64(batch) || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// RetentionConfig says how long each kind is kept. Zero = the default in
// brackets; a negative period turns that kind off.
type RetentionConfig struct {
	Interval          time.Duration // how often each kind runs, once across the cluster [1h]
	Batch             int           // rows per statement [1000]
	RefreshTokens     time.Duration // after expiry or revocation [168h]
	Audit             time.Duration // [8760h]
	LessonNotes       time.Duration // after the lesson ended [4380h]
	ReadNotifications time.Duration // after being read [2160h]
	Emails            time.Duration // after being sent or given up on [2160h]
	SearchHistory     time.Duration // after the last search of the query [4320h]
	Events            time.Duration // event history kept for resume [24h]
	IdempotencyKeys   time.Duration // [24h]
	Messages          time.Duration // conversation messages after being sent [17520h]
	SearchLog         time.Duration // anonymous search counts [9600h = 400 days]
	PageViews         time.Duration // instructor-page views [9600h = 400 days]
}

func (c *RetentionConfig) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Interval, time.Hour)
	def(&c.RefreshTokens, 7*24*time.Hour)
	def(&c.Audit, 365*24*time.Hour)
	def(&c.LessonNotes, 182*24*time.Hour)
	def(&c.ReadNotifications, 90*24*time.Hour)
	def(&c.Emails, 90*24*time.Hour)
	def(&c.SearchHistory, 180*24*time.Hour)
	def(&c.Events, 24*time.Hour)
	def(&c.IdempotencyKeys, 24*time.Hour)
	def(&c.Messages, 730*24*time.Hour)
	def(&c.SearchLog, 400*24*time.Hour)
	def(&c.PageViews, 400*24*time.Hour)
	if c.Batch <= 0 {
		c.Batch = 1000
	}
}

// Retention applies the retention periods and counts what they removed.
// The node runs each kind as a periodic job (once per Interval across the
// cluster); now is a parameter so tests control the clock.
type Retention struct {
	db      *DB
	cfg     RetentionConfig
	log     *slog.Logger
	removed *prometheus.CounterVec
}

// NewRetention returns the jobs over db, registering
// instainstru_retention_removed_total{kind} on reg.
func NewRetention(db *DB, cfg RetentionConfig, reg prometheus.Registerer, log *slog.Logger) *Retention {
	cfg.setDefaults()
	removed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "instainstru_retention_removed_total",
		Help: "Rows removed (or, for lesson notes, blanked) by the retention jobs, by kind.",
	}, []string{"kind"})
	if reg != nil {
		reg.MustRegister(removed)
	}
	for k := range retentionJobs {
		removed.WithLabelValues(k)
	}
	return &Retention{db: db, cfg: cfg, log: log, removed: removed}
}

// periods maps each enabled kind to how long it is kept.
func (r *Retention) periods() map[string]time.Duration {
	out := map[string]time.Duration{}
	for kind, d := range map[string]time.Duration{
		RetentionRefreshTokens:     r.cfg.RefreshTokens,
		RetentionAudit:             r.cfg.Audit,
		RetentionLessonNotes:       r.cfg.LessonNotes,
		RetentionReadNotifications: r.cfg.ReadNotifications,
		RetentionEmails:            r.cfg.Emails,
		RetentionSearchHistory:     r.cfg.SearchHistory,
		RetentionEvents:            r.cfg.Events,
		RetentionIdempotencyKeys:   r.cfg.IdempotencyKeys,
		RetentionMessages:          r.cfg.Messages,
		RetentionSearchLog:         r.cfg.SearchLog,
		RetentionPageViews:         r.cfg.PageViews,
	} {
		if d > 0 {
			out[kind] = d
		}
	}
	return out
}

// Kinds are the enabled kinds, sorted.
func (r *Retention) Kinds() []string {
	kinds := slices.Collect(maps.Keys(r.periods()))
	slices.Sort(kinds)
	return kinds
}

// Interval is how often each kind should run.
func (r *Retention) Interval() time.Duration { return r.cfg.Interval }

// RunKind applies kind's period as of now, counts what it removed in
// instainstru_retention_removed_total{kind} and logs it. A disabled kind
// removes nothing.
func (r *Retention) RunKind(ctx context.Context, kind string, now time.Time) (int64, error) {
	keep, ok := r.periods()[kind]
	if !ok {
		return 0, nil
	}
	n, err := r.db.Prune(ctx, kind, now.Add(-keep), r.cfg.Batch)
	r.removed.WithLabelValues(kind).Add(float64(n))
	if err != nil {
		if r.log != nil {
			r.log.Warn("retention job failed", "kind", kind, "removed", n, "err", err)
		}
		return n, err
	}
	if n > 0 && r.log != nil {
		r.log.Info("retention removed rows", "kind", kind, "rows", n)
	}
	return n, nil
}

// RunOnce applies every enabled kind as of now and returns the rows each
// removed. A failing kind does not stop the others; the first error is
// returned.
func (r *Retention) RunOnce(ctx context.Context, now time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	var first error
	for _, kind := range r.Kinds() {
		n, err := r.RunKind(ctx, kind, now)
		out[kind] = n
		if err != nil && first == nil {
			first = err
		}
	}
	return out, first
}
