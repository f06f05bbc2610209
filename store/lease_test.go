package store_test

import (
	"context"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/store/storetest"
)

func TestALeaseHasOneHolderUntilReleasedOrExpired(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	take := func(holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := db.TakeLease(ctx, "relay", holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("a", time.Minute) {
		t.Fatal("a free lease was refused")
	}
	if take("b", time.Minute) {
		t.Fatal("b took a lease a holds")
	}
	if !take("a", time.Minute) {
		t.Fatal("the holder could not renew")
	}
	if ok, err := db.TakeLease(ctx, "other", "b", time.Minute); err != nil || !ok {
		t.Fatalf("another lease name is independent: %v %v", ok, err)
	}
	must(t, db.ReleaseLease(ctx, "relay", "b")) // not b's: no effect
	if take("b", time.Minute) {
		t.Fatal("a release by a non-holder freed the lease")
	}
	must(t, db.ReleaseLease(ctx, "relay", "a"))
	if !take("b", 50*time.Millisecond) {
		t.Fatal("a released lease was refused")
	}
	eventually.True(t, 5*time.Second, "another holder to take over the expired lease", func() bool { return take("a", time.Minute) })
	if take("b", time.Minute) {
		t.Fatal("the former holder renewed a lease taken over after expiry")
	}
}
