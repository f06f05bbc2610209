package pgfloor

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the scripts from what the store sends now")

// recorder is a pgx tracer that keeps every statement, grouped by round
// trip, while on.
type recorder struct {
	mu    sync.Mutex
	on    bool
	trips []rawTrip
}

type rawTrip struct {
	batch bool
	stmts []rawStmt
}

type rawStmt struct {
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.trips = append(r.trips, rawTrip{stmts: []rawStmt{{d.SQL, d.Args}}})
	}
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.trips = append(r.trips, rawTrip{batch: true})
	}
	return ctx
}

func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on && len(r.trips) > 0 {
		last := &r.trips[len(r.trips)-1]
		last.stmts = append(last.stmts, rawStmt{d.SQL, d.Args})
	}
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// record runs fn with the recorder on and returns what it sent.
func (r *recorder) record(fn func()) []rawTrip {
	r.mu.Lock()
	r.on, r.trips = true, nil
	r.mu.Unlock()
	fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.trips
}

// encode describes each statement on conn and writes its arguments in
// Postgres text format, as pgbench will send them.
func encode(t *testing.T, conn *pgx.Conn, raw []rawTrip) []Trip {
	t.Helper()
	var out []Trip
	for _, rt := range raw {
		tr := Trip{Batch: rt.batch}
		for _, rs := range rt.stmts {
			sd, err := conn.Prepare(context.Background(), "", rs.sql)
			if err != nil {
				t.Fatalf("describe %s: %v", rs.sql, err)
			}
			s := Stmt{SQL: rs.sql, OIDs: sd.ParamOIDs}
			for i, a := range rs.args {
				// A non-nil buffer: Encode answers nil only for NULL, so an
				// empty string stays an empty string.
				buf, err := conn.TypeMap().Encode(sd.ParamOIDs[i], pgtype.TextFormatCode, a, make([]byte, 0, 64))
				if err != nil {
					t.Fatalf("encode $%d (%T) of %s: %v", i+1, a, rs.sql, err)
				}
				var p *string
				if buf != nil {
					v := string(buf)
					p = &v
				}
				s.Params = append(s.Params, p)
			}
			tr.Stmts = append(tr.Stmts, s)
		}
		out = append(out, tr)
	}
	return out
}

// floorWorld is a database with one bookable instructor and a student, and
// a store whose statements can be recorded.
type floorWorld struct {
	url     string
	db      *store.DB
	rec     *recorder
	inst    string
	stud    *market.User
	offer   string
	nowFunc func() time.Time
}

func newFloorWorld(t *testing.T) *floorWorld {
	t.Helper()
	ctx := context.Background()
	w := &floorWorld{url: storetest.NewDatabaseURL(t), rec: &recorder{}}
	db, err := store.OpenWith(ctx, w.url, store.Options{Tracer: w.rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	w.db = db
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Fixed ids: the outbox sorts topics, so the recorded order of the
	// parties' topics must not depend on random ids.
	pool := storetest.Pool(db)
	w.inst, w.stud = "10000000-0000-4000-8000-000000000001", &market.User{ID: "20000000-0000-4000-8000-000000000002"}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO users (id, email, password_hash, full_name, email_verified_at) VALUES
		($1, 'floor-i@example.com', 'x', 'Floor Instructor', now()), ($2, 'floor-s@example.com', 'x', 'Floor Student', now())`, w.inst, w.stud.ID)
	b.Queue(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'instructor'), ($2, 'student')`, w.inst, w.stud.ID)
	b.Queue(`INSERT INTO instructor_profiles (user_id) VALUES ($1)`, w.inst)
	must(pool.SendBatch(ctx, b).Close())
	w.stud, err = db.UserByID(ctx, w.stud.ID)
	must(err)
	must(pool.QueryRow(ctx, `WITH c AS (INSERT INTO categories (slug, name) VALUES ('music', 'Music') RETURNING id)
		INSERT INTO services (category_id, slug, name) SELECT id, 'piano', 'Piano' FROM c RETURNING id`).Scan(new(string)))
	_, err = pool.Exec(ctx, `UPDATE instructor_profiles SET areas = '{Upper West Side}' WHERE user_id = $1`, w.inst)
	must(err)
	must(pool.QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		SELECT $1, id, 6000, '{60}' FROM services RETURNING id`, w.inst).Scan(&w.offer))
	w.nowFunc = func() time.Time { return time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC) }
	for _, d := range []string{"2027-01-11", "2027-01-12"} {
		_, err := db.AddWindow(ctx, w.inst, d, market.WindowInput{Start: "09:00", End: "17:00"}, w.nowFunc)
		must(err)
	}
	return w
}

// bookAndCancel books the student at 10:00 on day (with an Idempotency-Key,
// as the load generator sends) and cancels it as the student.
func (w *floorWorld) bookAndCancel(t *testing.T, day, key string) (bk *market.Booking, booking, cancel []rawTrip) {
	t.Helper()
	ctx := context.Background()
	nb := market.NewBooking{StudentID: w.stud.ID, InstructorID: w.inst, InstructorServiceID: w.offer, Date: day,
		StartTime: "10:00", DurationMinutes: 60, IdempotencyKey: key, Now: w.nowFunc}
	booking = w.rec.record(func() {
		r, err := w.db.CreateBooking(ctx, nb)
		if err != nil {
			t.Fatalf("book: %v", err)
		}
		bk = r.Booking
	})
	cancel = w.rec.record(func() {
		if _, err := w.db.CancelBooking(ctx, w.stud, bk.ID, "", w.nowFunc); err != nil {
			t.Fatalf("cancel: %v", err)
		}
	})
	return bk, booking, cancel
}

// The scripts are the statements the store sends for a booking and a
// cancellation, round trip by round trip; they run under pgbench.
func TestScriptsAreWhatTheStoreSendsAndRunUnderPgbench(t *testing.T) {
	w := newFloorWorld(t)
	w.bookAndCancel(t, "2027-01-12", "warm-up") // caches, River's one-time capability query
	bk, booking, cancel := w.bookAndCancel(t, "2027-01-11", "floor-key-1")
	direct, err := libpqURL(w.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	lo, hi := mustDay(t, "2027-01-09"), mustDay(t, "2027-01-14")
	k := Known{Instructor: w.inst, Student: w.stud.ID, Offer: w.offer, Key: "floor-key-1", Day: bk.Date,
		Start: bk.StartTime, End: bk.EndTime, StartsAt: bk.StartsAt, EndsAt: bk.EndsAt, Lo: lo, Hi: hi}
	for name, raw := range map[string][]rawTrip{Booking: booking, Change: append(booking, cancel...)} {
		s, err := Build(Canonical(k, encode(t, conn, raw)))
		if err != nil {
			t.Fatal(err)
		}
		args, _ := json.MarshalIndent(s.Args, "", "  ")
		checkGolden(t, name+".sql", []byte(s.Text))
		checkGolden(t, name+".args.json", append(args, '\n'))
	}
	t.Logf("a booking: %d round trips, %d statements", len(booking), countStmts(booking))

	for _, script := range []string{Booking, Change} {
		st, err := Run(context.Background(), Options{DatabaseURL: w.url, Script: script, Clients: 2, Transactions: 3})
		if err != nil {
			t.Fatal(err)
		}
		if st.Transactions != 6 || st.Failed != 0 || st.TPS <= 0 || st.P99Millis <= 0 {
			t.Fatalf("%s floor: %+v", script, st)
		}
	}
	var booked, cancelled int
	if err := storetest.Pool(w.db).QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE status = 'cancelled')
		FROM bookings b JOIN users u ON u.id = b.student_id WHERE u.email LIKE 'pgfloor-%'`).Scan(&booked, &cancelled); err != nil {
		t.Fatal(err)
	}
	if booked != 12 || cancelled != 6 {
		t.Fatalf("the floor booked %d and cancelled %d, want 12 and 6", booked, cancelled)
	}
}

func countStmts(trips []rawTrip) int {
	n := 0
	for _, tr := range trips {
		n += len(tr.stmts)
	}
	return n
}

func mustDay(t *testing.T, d string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateOnly, d)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkGolden compares got with the committed file, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil || string(want) != string(got) {
		t.Errorf("%s is not what the store sends now (go test ./loadtest/pgfloor -update rewrites it); recorded:\n%s", name, got)
	}
}
