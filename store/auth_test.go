package store_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"instainstru/market"
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
	if err := db.CreateRefreshToken(ctx, u.ID, tokenHash("a"), exp); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRefreshToken(ctx, u.ID, tokenHash("other-family"), exp); err != nil {
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
