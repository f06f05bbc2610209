package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// CreateUser inserts a user with one role; instructors also get an empty
// profile (default timezone). Returns ECONFLICT if the email is taken.
func (db *DB) CreateUser(ctx context.Context, nu market.NewUser) (*market.User, error) {
	var id string
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = createUserTx(ctx, tx, nu)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, id)
}

// createUserTx is CreateUser inside a caller's transaction; it returns the id.
func createUserTx(ctx context.Context, tx pgx.Tx, nu market.NewUser) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO users (email, password_hash, full_name, email_verified_at)
		VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END) RETURNING id`,
		strings.ToLower(strings.TrimSpace(nu.Email)), nu.PasswordHash, nu.FullName, nu.EmailVerified).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert user: %w", translate(err))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, id, nu.Role); err != nil {
		return "", fmt.Errorf("grant role: %w", translate(err))
	}
	if nu.Role == market.RoleInstructor {
		if _, err := tx.Exec(ctx, `INSERT INTO instructor_profiles (user_id) VALUES ($1)`, id); err != nil {
			return "", fmt.Errorf("create profile: %w", translate(err))
		}
	}
	return id, nil
}

const userColumns = `u.id, u.email, u.full_name, u.created_at,
	COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}'),
	COALESCE((SELECT array_agg(DISTINCT rp.permission ORDER BY rp.permission) FROM user_roles r
	          JOIN role_permissions rp ON rp.role = r.role WHERE r.user_id = u.id), '{}'),
	u.email_verified_at IS NOT NULL, u.token_version`

func scanUser(row pgx.Row, extra ...any) (*market.User, error) {
	var u market.User
	dest := append([]any{&u.ID, &u.Email, &u.FullName, &u.CreatedAt, &u.Roles, &u.Permissions,
		&u.EmailVerified, &u.TokenVersion}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, translate(err)
	}
	return &u, nil
}

// UserByID returns a live (not deleted) user with roles and permissions, or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id string) (*market.User, error) {
	return scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.id = $1 AND u.deleted_at IS NULL`, id))
}

// UserByEmail returns a live user and the password hash, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*market.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u
		WHERE u.email = $1 AND u.deleted_at IS NULL`, strings.ToLower(strings.TrimSpace(email))), &hash)
	return u, hash, err
}
