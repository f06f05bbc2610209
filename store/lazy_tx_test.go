package store_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// tripCounter counts round trips: a statement on its own or a batch.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *tripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// trips returns how many round trips fn sent.
func (c *tripCounter) trips(fn func()) int64 {
	before := c.n.Load()
	fn()
	return c.n.Load() - before
}

// A schedule write's BEGIN rides in its first batch: a booking is four
// round trips (the locking read batch, the write batch, River's insert,
// COMMIT), a cancellation five (it finds the instructor first), a window
// edit four. A transaction whose first batch fails is rolled back and
// leaves no connection inside a transaction.
func TestScheduleWritesSendBeginWithTheirFirstBatch(t *testing.T) {
	t.Parallel()
	ctr := &tripCounter{}
	db, err := store.OpenWith(context.Background(), storetest.NewDatabaseURL(t), store.Options{Tracer: ctr})
	noErr(t, err)
	t.Cleanup(db.Close)
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	w := &schedWorld{t: t, db: db, rec: &recorder{}, hash: string(hash)}
	var cat string
	noErr(t, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO categories (slug, name) VALUES ('music','Music') RETURNING id`).Scan(&cat))
	noErr(t, storetest.Pool(db).QueryRow(context.Background(), `INSERT INTO services (category_id, slug, name) VALUES ($1,'piano','Piano') RETURNING id`, cat).Scan(&w.service))
	in, offer := w.instructor(market.DefaultTimezone)
	student := w.user(market.RoleStudent)
	ctx := context.Background()
	w.addWindow(in, monday, "09:00", "12:00", fixedNow) // warms the statement cache
	if n := ctr.trips(func() { w.addWindow(in, tuesday, "09:00", "12:00", fixedNow) }); n != 4 {
		t.Errorf("a window edit took %d round trips, want 4", n)
	}
	var bk *market.Booking
	if _, err := db.CreateBooking(ctx, book(student, in, offer, tuesday, "09:00")); err != nil { // warm-up
		t.Fatal(err)
	}
	if n := ctr.trips(func() {
		r, err := db.CreateBooking(ctx, book(student, in, offer, monday, "10:00"))
		noErr(t, err)
		bk = r.Booking
	}); n != 4 {
		t.Errorf("a booking took %d round trips, want 4", n)
	}
	actor := w.actor(student)
	if n := ctr.trips(func() {
		_, err := db.CancelBooking(ctx, actor, bk.ID, "", fixedNow)
		noErr(t, err)
	}); n != 5 {
		t.Errorf("a cancellation took %d round trips, want 5", n)
	}

	// The first batch fails (the key is longer than its column): the
	// transaction is rolled back, nothing is written, and the next booking
	// works.
	nb := book(student, in, offer, monday, "11:00")
	nb.IdempotencyKey = strings.Repeat("k", 200)
	if _, err := db.CreateBooking(ctx, nb); err == nil {
		t.Fatal("a 200-character key was stored in a varchar(128)")
	}
	if _, err := db.CreateBooking(ctx, book(student, in, offer, monday, "11:00")); err != nil {
		t.Fatalf("the booking after a failed first batch: %v", err)
	}
	if n := w.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`); n != 2 {
		t.Fatalf("%d confirmed bookings, want 2 (tuesday 09:00, monday 11:00)", n)
	}
	if n := w.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`); n != 0 {
		t.Fatalf("%d connections left inside a transaction", n)
	}
}
