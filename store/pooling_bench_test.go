package store_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// BenchmarkCreateBookingByExecMode is BenchmarkCreateBooking with each
// statement mode DB_POOLING chooses: session (pgx's named statements,
// cached per connection) and transaction (unnamed statements, their
// descriptions cached: the server parses and plans every time).
//
//	go test -run '^$' -bench CreateBookingByExecMode -benchtime 400x ./store/
func BenchmarkCreateBookingByExecMode(b *testing.B) {
	for _, mode := range []store.Pooling{store.PoolingSession, store.PoolingTransaction} {
		b.Run(mode.String(), func(b *testing.B) {
			db, err := store.OpenWith(context.Background(), storetest.NewDatabaseURL(b), store.Options{Pooling: mode})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(db.Close)
			hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
			w := &schedWorld{t: b, db: db, rec: &recorder{}, hash: string(hash)}
			var cat string
			noErr(b, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO categories (slug, name) VALUES ('music','Music') RETURNING id`).Scan(&cat))
			noErr(b, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO services (category_id, slug, name) VALUES ($1,'piano','Piano') RETURNING id`, cat).Scan(&w.service))
			benchBookings(b, w)
		})
	}
}

// benchBookings books distinct 30-minute slots of one instructor, one
// after another, with 48 students.
func benchBookings(b *testing.B, w *schedWorld) {
	in, offer := w.instructor(market.DefaultTimezone)
	students := make([]string, 48)
	for i := range students {
		students[i] = w.user(market.RoleStudent)
	}
	first, _ := market.ParseDate(monday)
	for i := range market.MaxRangeDays {
		w.addWindow(in, first.AddDate(0, 0, i).Format(time.DateOnly), "00:00", "24:00", fixedNow)
	}
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == 48*market.MaxRangeDays {
			b.Fatal("out of slots: lower -benchtime")
		}
		nb := book(students[i%48], in, offer, first.AddDate(0, 0, i/48).Format(time.DateOnly), market.Clock(i%48*30).String())
		nb.DurationMinutes = 30
		if _, err := w.db.CreateBooking(ctx, nb); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
