package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeLease takes or renews the lease name for holder until ttl from now
// (the database's clock), and reports whether holder holds it: true when it
// was free, expired, or holder's already; false while another holder's
// lease runs. It is one statement, so it works through a pooler in
// transaction mode; holder should be unique per process (a node id and a
// random suffix).
func (db *DB) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `
		INSERT INTO leases (name, holder, expires_at)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < clock_timestamp()
		RETURNING true`, name, holder, ttl.Seconds()).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, translate(err))
	}
	return ok, nil
}

// ReleaseLease gives up holder's lease name (no-op if holder does not hold
// it), so a standby takes it at its next try instead of at expiry.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, translate(err))
	}
	return nil
}
