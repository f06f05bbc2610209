package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

func tokenHash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func TestRefreshTokenRotationReuseAndUserDeletion(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, market.NewUser{Email: "r@example.com", PasswordHash: "x", FullName: "R", Role: market.RoleStudent})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := db.CreateRefreshToken(ctx, u.ID, u.TokenVersion, tokenHash("a"), exp); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRefreshToken(ctx, u.ID, u.TokenVersion, tokenHash("other-family"), exp); err != nil {
		t.Fatal(err)
	}
	if id, err := db.RotateRefreshToken(ctx, tokenHash("a"), tokenHash("b"), exp); err != nil || id != u.ID {
		t.Fatalf("rotate a→b: %q %v", id, err)
	}
	// Replaying a: refused, and b (same family) is revoked by that — the
	// revocation is committed although the call returns an error.
	if _, err := db.RotateRefreshToken(ctx, tokenHash("a"), tokenHash("c"), exp); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("replay: %v", err)
	}
	if _, err := db.RotateRefreshToken(ctx, tokenHash("b"), tokenHash("d"), exp); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("b after replay: %v", err)
	}
	var live int
	if err := storetest.Pool(db).QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL`).Scan(&live); err != nil || live != 1 {
		t.Fatalf("live tokens %d (%v), want only the other family", live, err)
	}
	// Deleting the user revokes the rest.
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RotateRefreshToken(ctx, tokenHash("other-family"), tokenHash("e"), exp); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("deleted user's token: %v", err)
	}
	if err := db.DeleteUser(ctx, u.ID); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := db.UserByID(ctx, u.ID); market.ErrorCode(err) != market.ENOTFOUND {
		t.Fatalf("deleted user still loads: %v", err)
	}
	// Unknown and expired tokens are refused without side effects.
	if _, err := db.RotateRefreshToken(ctx, tokenHash("nope"), tokenHash("f"), exp); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("unknown token: %v", err)
	}
}

// resetLike runs what ResetPassword does to sessions, in its order: the
// token version first, then every refresh token revoked.
func resetLike(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, userID string) error {
	if _, err := q.Exec(ctx, `UPDATE users SET token_version = token_version + 1 WHERE id = $1`, userID); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	return err
}

// raceWorld is a database with one student, for the login/refresh races.
func raceWorld(t *testing.T) (*store.DB, *pgxpool.Pool, *market.User, func() int) {
	t.Helper()
	db := storetest.NewDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, market.NewUser{Email: "race@example.com", PasswordHash: "x", FullName: "R", Role: market.RoleStudent})
	if err != nil {
		t.Fatal(err)
	}
	pool := storetest.Pool(db)
	live := func() int { // refresh tokens neither revoked nor spent
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens
			WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL`, u.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return db, pool, u, live
}

// TestLoginRacingAPasswordResetLeavesNoLiveRefreshToken: a login checks the
// password against token version v, then stores its refresh token. A reset
// (version v+1, every refresh token revoked) that commits in between — or
// that holds the user row while the login stores — must leave no live
// token behind: the store refuses a token for a version that is no longer
// current, waiting for the reset's commit to know.
func TestLoginRacingAPasswordResetLeavesNoLiveRefreshToken(t *testing.T) {
	t.Parallel()
	db, pool, u, live := raceWorld(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	// The reset committed between the password check and the insert.
	if err := resetLike(ctx, pool, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRefreshToken(ctx, u.ID, u.TokenVersion, tokenHash("stale"), exp); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("token for a superseded version: %v, want unauthorized", err)
	}
	if n := live(); n != 0 {
		t.Fatalf("%d live refresh tokens after a refused login", n)
	}

	// The reset holds the user row, not yet committed, while the login stores.
	v := u.TokenVersion + 1
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := resetLike(ctx, tx, u.ID); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- db.CreateRefreshToken(ctx, u.ID, v, tokenHash("racing"), exp) }()
	deadline := time.Now().Add(10 * time.Second)
	for waiting := 0; waiting == 0; {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO refresh_tokens%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			t.Fatalf("the login stored its token (%v) without waiting for the reset holding the user row", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the login's insert never waited for the reset")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Fatalf("login racing the reset: %v, want unauthorized", err)
	}
	if n := live(); n != 0 {
		t.Fatalf("%d live refresh tokens after the reset", n)
	}

	// The current version still logs in.
	if err := db.CreateRefreshToken(ctx, u.ID, v+1, tokenHash("fresh"), exp); err != nil {
		t.Fatal(err)
	}
	if n := live(); n != 1 {
		t.Fatalf("%d live refresh tokens after a login at the current version, want 1", n)
	}
}

// TestRefreshRacingAPasswordResetLeavesNoLiveRefreshToken races a refresh
// (rotation: spend the token, store its successor) against a reset's
// version bump and revocation, many times: whichever commits first, no
// unrevoked, unspent refresh token may be left. The rotation reads the user
// row FOR SHARE, so a reset's revocation never runs on a snapshot taken
// before the successor was stored.
func TestRefreshRacingAPasswordResetLeavesNoLiveRefreshToken(t *testing.T) {
	t.Parallel()
	db, pool, u, live := raceWorld(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	reset := func() error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if err := resetLike(ctx, tx, u.ID); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	for i := range 60 {
		var version int
		if err := pool.QueryRow(ctx, `SELECT token_version FROM users WHERE id = $1`, u.ID).Scan(&version); err != nil {
			t.Fatal(err)
		}
		old, next := tokenHash(fmt.Sprint("old-", i)), tokenHash(fmt.Sprint("next-", i))
		if err := db.CreateRefreshToken(ctx, u.ID, version, old, exp); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		errs := make(chan error, 2)
		go func() {
			<-start
			_, err := db.RotateRefreshToken(ctx, old, next, exp)
			if market.ErrorCode(err) == market.EUNAUTHORIZED {
				err = nil // the reset came first: refused, as it should be
			}
			errs <- err
		}()
		go func() { <-start; errs <- reset() }()
		close(start)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := live(); n != 0 {
			t.Fatalf("round %d: %d live refresh tokens after a reset", i, n)
		}
	}
}
