package store

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// rbacLockKey serialises every change to who holds what (grants, user
// roles, deactivation), so two concurrent changes cannot each see another
// admin left and together leave none.
const rbacLockKey = 0x0a11_0c8e

func lockRBAC(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(rbacLockKey)); err != nil {
		return fmt.Errorf("lock rbac: %w", err)
	}
	return nil
}

// lockoutHolders counts, per lockout permission, the live users holding it.
func lockoutHolders(ctx context.Context, tx pgx.Tx) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT p, (SELECT count(DISTINCT u.id) FROM users u
			JOIN user_roles ur ON ur.user_id = u.id
			JOIN role_permissions rp ON rp.role = ur.role
			WHERE u.deleted_at IS NULL AND rp.permission = p)
		FROM unnest($1::varchar[]) AS p`, market.LockoutPermissions())
	if err != nil {
		return nil, fmt.Errorf("count lockout holders: %w", err)
	}
	out := map[string]int{}
	var p string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&p, &n}, func() error { out[p] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count lockout holders: %w", err)
	}
	return out, nil
}

// guardLockout runs change and refuses it (EVALIDATION under field) when a
// lockout permission that some live user held before is held by nobody
// after. The caller holds lockRBAC.
func guardLockout(ctx context.Context, tx pgx.Tx, field string, change func() error) error {
	before, err := lockoutHolders(ctx, tx)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	after, err := lockoutHolders(ctx, tx)
	if err != nil {
		return err
	}
	for _, p := range market.LockoutPermissions() {
		if before[p] > 0 && after[p] == 0 {
			return market.ValidationError(map[string]string{field: "would leave no active user with " + p})
		}
	}
	return nil
}

// audit records an admin action in the caller's transaction, in the one
// audit trail (audit_log, store/audit.go). actorID "" means a system change
// (seed, migration, tests) unless the request carries an actor; a target
// that is not a user (a role) goes into the details.
func audit(ctx context.Context, tx pgx.Tx, actorID, action, target string, details map[string]any) error {
	m := market.RequestMetaFrom(ctx)
	if actorID != "" {
		m.ActorID = actorID
	}
	if details == nil {
		details = map[string]any{}
	}
	if target != "" && nullUUID(target) == nil {
		details["target"] = target
		target = ""
	}
	return insertAudit(market.WithRequestMeta(ctx, m), tx, action, target, details)
}

// Grants reads every role (with its sorted permissions, possibly none) and
// every permission.
func (db *DB) Grants(ctx context.Context) (*market.Grants, error) {
	g := &market.Grants{Roles: map[string][]string{}}
	rows, err := db.pool.Query(ctx, `SELECT r.name, COALESCE(array_agg(rp.permission ORDER BY rp.permission)
			FILTER (WHERE rp.permission IS NOT NULL), '{}')
		FROM roles r LEFT JOIN role_permissions rp ON rp.role = r.name GROUP BY r.name`)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	var role string
	var perms []string
	if _, err := pgx.ForEachRow(rows, []any{&role, &perms}, func() error {
		g.Roles[role] = slices.Clone(perms)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	rows, err = db.pool.Query(ctx, `SELECT name, description FROM permissions ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read permissions: %w", err)
	}
	g.Permissions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[market.Permission])
	if err != nil {
		return nil, fmt.Errorf("read permissions: %w", err)
	}
	return g, nil
}

// SetRolePermissions replaces the grants of role with perms (deduplicated)
// and returns them sorted. Returns ENOTFOUND for an unknown role,
// EVALIDATION for unknown permission names or when the change would leave
// no live user holding a lockout permission (users:manage, roles:manage);
// nothing is written then. Takes effect on every node at the holders' next
// request, since each request loads the user's permissions.
func (db *DB) SetRolePermissions(ctx context.Context, actorID, role string, perms []string) ([]string, error) {
	perms = slices.Clone(perms)
	sort.Strings(perms)
	perms = slices.Compact(perms)
	err := db.transact(ctx, func(tx pgx.Tx) error {
		if err := lockRBAC(ctx, tx); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM roles WHERE name = $1`, role).Scan(&one); err != nil {
			if market.ErrorCode(translate(err)) == market.ENOTFOUND {
				return market.Errorf(market.ENOTFOUND, "role %q not found", role)
			}
			return fmt.Errorf("read role: %w", err)
		}
		var unknown []string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(array_agg(p ORDER BY p), '{}') FROM unnest($1::varchar[]) AS p
			WHERE NOT EXISTS (SELECT 1 FROM permissions WHERE name = p)`, perms).Scan(&unknown); err != nil {
			return fmt.Errorf("check permissions: %w", err)
		}
		if len(unknown) > 0 {
			return &market.Error{Code: market.EVALIDATION, Message: "request failed validation",
				Details: map[string]any{"permissions": fmt.Sprintf("unknown permissions %v", unknown), "unknown": unknown}}
		}
		var before []string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(array_agg(permission ORDER BY permission), '{}')
			FROM role_permissions WHERE role = $1`, role).Scan(&before); err != nil {
			return fmt.Errorf("read grants: %w", err)
		}
		err := guardLockout(ctx, tx, "permissions", func() error {
			if _, err := tx.Exec(ctx, `DELETE FROM role_permissions WHERE role = $1 AND NOT (permission = ANY($2))`, role, perms); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO role_permissions (role, permission)
				SELECT $1, unnest($2::varchar[]) ON CONFLICT DO NOTHING`, role, perms); err != nil {
				return fmt.Errorf("grant: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, actorID, "role.permissions.set", role, map[string]any{"before": before, "after": perms})
	})
	if err != nil {
		return nil, err
	}
	if perms == nil {
		perms = []string{}
	}
	return perms, nil
}
