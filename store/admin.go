package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// ListUsers returns up to p.Limit live users (roles and permissions filled)
// and whether more follow.
func (db *DB) ListUsers(ctx context.Context, p market.UserPage) ([]market.User, bool, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.deleted_at IS NULL
		  AND u.email > $1
		  AND ($2 = '' OR u.email ILIKE '%' || $3 || '%' ESCAPE '\' OR u.full_name ILIKE '%' || $3 || '%' ESCAPE '\')
		ORDER BY u.email
		LIMIT $4`, p.AfterEmail, p.Query, escapeLike(p.Query), p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", translate(err))
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (market.User, error) {
		u, err := scanUser(r)
		if err != nil {
			return market.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", translate(err))
	}
	more := len(users) > p.Limit
	if more {
		users = users[:p.Limit]
	}
	return users, more, nil
}

// SetUserRoles is SetUserRolesBy without an acting user (system changes).
func (db *DB) SetUserRoles(ctx context.Context, userID string, roles []string) (*market.User, error) {
	return db.SetUserRolesBy(ctx, "", userID, roles)
}

// SetUserRolesBy replaces the roles of a live user on behalf of actorID
// (audited). Granting instructor creates the instructor profile if missing;
// revoking it keeps the profile (bookings reference it). Returns ENOTFOUND
// for unknown or deleted users and EVALIDATION for unknown roles or when no
// live user would be left holding users:manage or roles:manage.
func (db *DB) SetUserRolesBy(ctx context.Context, actorID, userID string, roles []string) (*market.User, error) {
	err := db.transact(ctx, func(tx pgx.Tx) error {
		if err := lockRBAC(ctx, tx); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&one); err != nil {
			return err
		}
		var known []string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(array_agg(name), '{}') FROM roles WHERE name = ANY($1)`, roles).Scan(&known); err != nil {
			return fmt.Errorf("check roles: %w", err)
		}
		for _, r := range roles {
			if !slices.Contains(known, r) {
				return market.ValidationError(map[string]string{"roles": "unknown role " + r})
			}
		}
		err := guardLockout(ctx, tx, "roles", func() error {
			if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND NOT (role = ANY($2))`, userID, roles); err != nil {
				return fmt.Errorf("drop roles: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::varchar[])
				ON CONFLICT DO NOTHING`, userID, roles); err != nil {
				return fmt.Errorf("grant roles: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, actorID, market.AuditRolesChanged, userID, map[string]any{"roles": roles}); err != nil {
			return err
		}
		if slices.Contains(roles, market.RoleInstructor) {
			if _, err := tx.Exec(ctx, `INSERT INTO instructor_profiles (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, userID); err != nil {
				return fmt.Errorf("create profile: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}

// DeleteUser deletes userID's account through DeleteAccount, acting as
// the user themself (tools and tests; the admin route passes the admin as
// actor). Returns ENOTFOUND if the user does not exist or is already deleted.
func (db *DB) DeleteUser(ctx context.Context, userID string) error {
	_, err := db.DeleteAccount(ctx, market.AccountDeletion{UserID: userID, Actor: &market.User{ID: userID}})
	return err
}
