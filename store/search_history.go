package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
	"instainstru/search"
)

// RecordSearch writes r to the anonymous search log and, for a signed-in
// user, to their history, in one transaction: a query with the same
// normalized form as an earlier one updates that row (it moves to the top,
// never a second row), and the user keeps at most keep entries (the oldest
// go). A user deleted meanwhile is not an error: nothing is kept for them.
func (db *DB) RecordSearch(ctx context.Context, r market.SearchRecord, keep int) error {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	if r.ServiceIDs == nil {
		r.ServiceIDs = []string{}
	}
	err := db.transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO search_log (searched_at, result_count, service_ids) VALUES ($1, $2, $3)`,
			r.At, r.ResultCount, r.ServiceIDs); err != nil {
			return fmt.Errorf("search log: %w", err)
		}
		norm := search.NormalizeQuery(r.Query)
		q := strings.TrimSpace(r.Query)
		if r.UserID == "" || norm == "" || q == "" {
			return nil
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO search_history (user_id, query, normalized, searched_at, result_count)
			SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL)
			ON CONFLICT (user_id, normalized) DO UPDATE SET
				query = EXCLUDED.query, result_count = EXCLUDED.result_count,
				searched_at = GREATEST(search_history.searched_at, EXCLUDED.searched_at)`,
			r.UserID, truncateRunes(q, market.MaxSearchQueryChars), truncateRunes(norm, market.MaxSearchQueryChars),
			r.At, r.ResultCount); err != nil {
			return fmt.Errorf("search history: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM search_history WHERE user_id = $1 AND id NOT IN (
				SELECT id FROM search_history WHERE user_id = $1 ORDER BY searched_at DESC, id DESC LIMIT $2)`,
			r.UserID, keep); err != nil {
			return fmt.Errorf("search history cap: %w", err)
		}
		return nil
	})
	if market.ErrorCode(err) == market.ENOTFOUND { // the user's row went away (FK)
		return nil
	}
	return err
}

// SearchHistory lists userID's recent searches, newest first.
func (db *DB) SearchHistory(ctx context.Context, userID string, limit int) ([]market.SearchHistoryEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, query, searched_at, result_count FROM search_history
		WHERE user_id = $1 ORDER BY searched_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("search history: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.SearchHistoryEntry, error) {
		var e market.SearchHistoryEntry
		err := r.Scan(&e.ID, &e.Query, &e.SearchedAt, &e.ResultCount)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("search history: %w", translate(err))
	}
	if list == nil {
		list = []market.SearchHistoryEntry{}
	}
	return list, nil
}

// DeleteSearchHistory deletes one of userID's entries; ENOTFOUND when there
// is no such entry of theirs (another user's entry is not theirs).
func (db *DB) DeleteSearchHistory(ctx context.Context, userID, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM search_history WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete search history: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return market.Errorf(market.ENOTFOUND, "search history entry not found")
	}
	return nil
}

// ClearSearchHistory deletes all of userID's entries.
func (db *DB) ClearSearchHistory(ctx context.Context, userID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM search_history WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear search history: %w", translate(err))
	}
	return nil
}

// PruneSearchHistory deletes history entries last searched more than
// retention before now, in bounded batches, and returns how many went. The
// search_history retention job runs it (SEARCH_HISTORY_RETENTION); now is
// a parameter so tests control the clock.
func (db *DB) PruneSearchHistory(ctx context.Context, now time.Time, retention time.Duration) (int64, error) {
	return db.Prune(ctx, RetentionSearchHistory, now.Add(-retention), 0)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
