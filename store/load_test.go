package store_test

import (
	"context"
	"testing"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// TestLoadRefusesDataItCannotWriteSafely: a reset without the domain of the
// accounts to delete would match every user, and an offer of a service the
// catalog lacks has nothing to point at; both fail before any write lands.
func TestLoadRefusesDataItCannotWriteSafely(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    store.Dataset
	}{
		{"reset without a domain", store.Dataset{Reset: true}},
		{"offer of an unknown service", store.Dataset{Instructors: []store.DatasetInstructor{{
			Account: store.DatasetAccount{Email: "load.test@example.com", Name: "Load Test", PasswordHash: "x"},
			Offers:  []store.DatasetOffer{{ServiceSlug: "no-such-service", RateCents: 5000, Durations: []int{60}}},
		}}}},
	}
	db := storetest.NewDB(t)
	ctx := context.Background()
	keep, err := db.CreateUser(ctx, market.NewUser{Email: "keep@elsewhere.org", PasswordHash: "x", FullName: "Keep", Role: market.RoleStudent})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.Load(ctx, tc.d); market.ErrorCode(err) != market.EVALIDATION {
				t.Fatalf("err %v, want %s", err, market.EVALIDATION)
			}
			var users int
			if err := storetest.Pool(db).QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UserByID(ctx, keep.ID); err != nil || users != 1 {
				t.Fatalf("users = %d (%v), want only the one that was there", users, err)
			}
		})
	}
}
