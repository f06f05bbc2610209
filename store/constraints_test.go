package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// fixture creates an instructor with one service and n students.
func fixture(t *testing.T, db *store.DB, students int) (instructor, offer string, studentIDs []string) {
	t.Helper()
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	in, err := db.CreateUser(ctx, market.NewUser{Email: "i@example.com", PasswordHash: string(hash), FullName: "I", Role: market.RoleInstructor})
	if err != nil {
		t.Fatal(err)
	}
	var cat, svc string
	must(t, storetest.Pool(db).QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ('music','Music') RETURNING id`).Scan(&cat))
	must(t, storetest.Pool(db).QueryRow(ctx, `INSERT INTO services (category_id, slug, name) VALUES ($1,'piano','Piano') RETURNING id`, cat).Scan(&svc))
	must(t, storetest.Pool(db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		VALUES ($1,$2,6000,'{30,60}') RETURNING id`, in.ID, svc).Scan(&offer))
	for i := 0; i < students; i++ {
		u, err := db.CreateUser(ctx, market.NewUser{Email: "s" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com",
			PasswordHash: string(hash), FullName: "S", Role: market.RoleStudent})
		if err != nil {
			t.Fatal(err)
		}
		studentIDs = append(studentIDs, u.ID)
	}
	return in.ID, offer, studentIDs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// insertBooking writes a booking row directly, bypassing Go checks, so that
// only the database constraints decide.
func insertBooking(ctx context.Context, db *store.DB, student, instructor, offer, during string) error {
	_, err := storetest.Pool(db).Exec(ctx, `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date,
		start_time, end_time, duration_minutes, price_cents, during)
		VALUES ($1,$2,$3,'2030-01-07','09:00','10:00',60,6000,$4::tstzrange)`, student, instructor, offer, during)
	return err
}

func TestConcurrentOverlappingBookingsOfOneInstructorExactlyOneWins(t *testing.T) {
	db := storetest.NewDB(t)
	in, offer, students := fixture(t, db, 50)
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for i, s := range students {
		wg.Add(1)
		go func(i int, s string) {
			defer wg.Done()
			// Overlapping but not identical ranges.
			during := "[2030-01-07 09:00-05,2030-01-07 10:00-05)"
			if i%2 == 1 {
				during = "[2030-01-07 09:30-05,2030-01-07 10:30-05)"
			}
			err := insertBooking(context.Background(), db, s, in, offer, during)
			switch {
			case err == nil:
				ok.Add(1)
			case store.IsConflict(err):
				conflict.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}(i, s)
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != int32(len(students)-1) {
		t.Fatalf("ok=%d conflict=%d, want 1 and %d", ok.Load(), conflict.Load(), len(students)-1)
	}
}

func TestStudentCannotHoldTwoOverlappingConfirmedBookings(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	in, offer, students := fixture(t, db, 1)
	// A second instructor with their own offer.
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	in2, err := db.CreateUser(ctx, market.NewUser{Email: "i2@example.com", PasswordHash: string(hash), FullName: "I2", Role: market.RoleInstructor})
	must(t, err)
	var offer2 string
	must(t, storetest.Pool(db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		SELECT $1, service_id, 5000, '{60}' FROM instructor_services WHERE id=$2 RETURNING id`, in2.ID, offer).Scan(&offer2))
	must(t, insertBooking(ctx, db, students[0], in, offer, "[2030-01-07 09:00-05,2030-01-07 10:00-05)"))
	err = insertBooking(ctx, db, students[0], in2.ID, offer2, "[2030-01-07 09:45-05,2030-01-07 10:45-05)")
	if market.ErrorCode(store.Translate(err)) != market.ESLOTUNAVAIL {
		t.Fatalf("got %v, want slot_unavailable", err)
	}
	// Adjacent is fine: ranges are half-open.
	must(t, insertBooking(ctx, db, students[0], in2.ID, offer2, "[2030-01-07 10:00-05,2030-01-07 11:00-05)"))
	// A cancelled booking frees the time.
	_, err = storetest.Pool(db).Exec(ctx, `UPDATE bookings SET status='cancelled' WHERE instructor_id=$1`, in)
	must(t, err)
	must(t, insertBooking(ctx, db, students[0], in2.ID, offer2, "[2030-01-07 08:00-05,2030-01-07 09:00-05)"))
	must(t, insertBooking(ctx, db, students[0], in, offer, "[2030-01-07 09:00-05,2030-01-07 10:00-05)"))
}

func TestSchemaRejectsBadRows(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	in, offer, students := fixture(t, db, 1)
	tests := []struct {
		name string
		sql  string
		args []any
	}{
		{"window end before start", `INSERT INTO availability_windows (instructor_id, date, start_time, end_time) VALUES ($1,'2030-01-07','10:00','09:00')`, []any{in}},
		{"window misaligned", `INSERT INTO availability_windows (instructor_id, date, start_time, end_time) VALUES ($1,'2030-01-07','09:10','10:00')`, []any{in}},
		{"booking unknown status", `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date, start_time, end_time, duration_minutes, price_cents, status, during)
			VALUES ($1,$2,$3,'2030-01-07','09:00','10:00',60,1,'pending','[2030-01-07 09:00-05,2030-01-07 10:00-05)')`, []any{students[0], in, offer}},
		{"booking misaligned", `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date, start_time, end_time, duration_minutes, price_cents, during)
			VALUES ($1,$2,$3,'2030-01-07','09:05','10:05',60,1,'[2030-01-07 09:05-05,2030-01-07 10:05-05)')`, []any{students[0], in, offer}},
		{"booking range disagrees with duration", `INSERT INTO bookings (student_id, instructor_id, instructor_service_id, date, start_time, end_time, duration_minutes, price_cents, during)
			VALUES ($1,$2,$3,'2030-01-07','09:00','10:00',30,1,'[2030-01-07 09:00-05,2030-01-07 10:00-05)')`, []any{students[0], in, offer}},
		{"duplicate topic seq", `INSERT INTO events (topic, seq, type, payload) VALUES ('t',1,'x','{}'),('t',1,'x','{}')`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := storetest.Pool(db).Exec(ctx, tc.sql, tc.args...); err == nil {
				t.Fatal("row accepted, want a constraint violation")
			}
		})
	}
	// Overlapping windows on one day: exactly one of concurrent inserts wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := storetest.Pool(db).Exec(ctx, `INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
				VALUES ($1,'2030-01-08','09:00','12:00')`, in); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d overlapping windows accepted, want 1", wins.Load())
	}
}

func TestAppendEventsGivesGaplessSeqUnderConcurrency(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.CommitEvents(ctx, []market.NewEvent{
				{Topic: "b", Type: "x", Data: map[string]int{"n": 1}},
				{Topic: "a", Type: "x", Data: nil},
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, topic := range []string{"a", "b"} {
		evs, err := db.EventsAfter(ctx, topic, 0, 1000)
		must(t, err)
		if len(evs) != 40 {
			t.Fatalf("%s: %d events, want 40", topic, len(evs))
		}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d", topic, i, e.Seq)
			}
		}
		seq, err := db.TopicSeq(ctx, topic)
		must(t, err)
		if seq != 40 {
			t.Fatalf("TopicSeq(%s)=%d", topic, seq)
		}
	}
}
