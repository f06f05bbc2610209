package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"instainstru/market"
)

// Availability rules, as implemented here:
//
//   - Every write locks the instructor's schedule (the instructor_profiles row,
//     FOR UPDATE) first. Bookings take the same lock, so the open time that an
//     availability.changed event carries is computed from a state no other
//     writer of that schedule can change before the event commits.
//   - Days before "today" in the instructor's timezone are history: no write
//     changes them, and asking to is a validation error. Replace week accepts
//     a past day that repeats its current windows (so a client can PUT back
//     the current week it read); bulk writes leave past days of the target
//     week as they are.
//   - Windows may be added, removed or shrunk under existing bookings: bookings
//     are a separate layer and are never deleted by availability writes. The
//     open time of the day just shrinks or grows accordingly.
//   - A write that changes the windows of at least one day appends exactly one
//     availability.changed event listing every changed day with its new open
//     intervals; a write that changes nothing appends none (seq unchanged).

// nowFunc returns now(), or the wall clock when now is nil. Stores take it
// per call so that tests can place "now" before fixed calendar dates (DST).
func nowFunc(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

// span is a local [start, end) of one day in minutes.
type span = [2]market.Clock

// lockSchedule takes the per-instructor lock that serialises every writer of
// that instructor's schedule (windows and bookings) and returns their zone.
func lockSchedule(ctx context.Context, tx pgx.Tx, instructorID string) (*time.Location, error) {
	var tz string
	err := tx.QueryRow(ctx, `SELECT p.timezone FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND u.deleted_at IS NULL FOR UPDATE OF p`, instructorID).Scan(&tz)
	if err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "instructor not found")
		}
		return nil, fmt.Errorf("lock instructor schedule: %w", err)
	}
	return loadZone(tz)
}

// zoneCache holds every *time.Location loaded so far, by IANA name.
// time.LoadLocation reads and parses tzdata on each call (about 25 µs, ~8 %
// of an uncached availability read); a Location is immutable and a pure
// function of its name, so one process-wide memo is safe, and bounded by
// the names tzdata knows (a failed load is not kept).
var zoneCache sync.Map // string → *time.Location

// loadZone is time.LoadLocation through zoneCache.
func loadZone(tz string) (*time.Location, error) {
	if loc, ok := zoneCache.Load(tz); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("instructor timezone %q: %w", tz, err)
	}
	zoneCache.Store(tz, loc)
	return loc, nil
}

// localToday is the calendar date (UTC midnight) of now in loc.
func localToday(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func dateString(d time.Time) string { return d.Format(time.DateOnly) }

func addDays(d time.Time, n int) time.Time { return d.AddDate(0, 0, n) }

// daysBetween is the number of days from a to b (both calendar dates).
func daysBetween(a, b time.Time) int { return int(b.Sub(a).Hours()/24 + 0.5) }

func pgClock(c market.Clock) pgtype.Time {
	return pgtype.Time{Microseconds: int64(c) * 60_000_000, Valid: true}
}

func clockOf(t pgtype.Time) market.Clock { return market.Clock(t.Microseconds / 60_000_000) }

// busySpan is market.BusySpan as the store's span (search reads through it).
func busySpan(date time.Time, start market.Clock, startsAt, endsAt time.Time, loc *time.Location) span {
	return market.BusySpan(date, start, startsAt, endsAt, loc)
}

// dayState is what one date holds, as read inside a transaction.
type dayState struct {
	windows []market.Window
	spans   []span // windows as minute spans, sorted
	busy    []span // time-blocking bookings as wall spans, sorted
}

func (d *dayState) open() []market.Interval {
	return market.Intervals(market.Subtract(d.spans, d.busy))
}

// readSchedule reads, in one round trip and tx's snapshot, the windows and
// time-blocking bookings of dates [from, to] (or only the listed dates when
// dates is non-nil), plus the instructor's timezone when loc is nil
// (ENOTFOUND for an unknown instructor) and the availability topic's seq
// when withSeq is set.
func readSchedule(ctx context.Context, tx batchSender, instructorID string, loc *time.Location, from, to time.Time, dates []time.Time, withSeq bool) (map[string]*dayState, *time.Location, int64, error) {
	filter, args := `date BETWEEN $2 AND $3`, []any{instructorID, from, to}
	if dates != nil {
		filter, args = `date = ANY($2)`, []any{instructorID, dates}
	}
	b := &pgx.Batch{}
	if loc == nil {
		// Public read: only a live user who still holds the instructor role.
		b.Queue(`SELECT p.timezone FROM instructor_profiles p JOIN users u ON u.id = p.user_id
			WHERE p.user_id = $1 AND `+instructorFilter, instructorID)
	}
	b.Queue(`SELECT id, date, start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND `+filter+` ORDER BY date, start_time`, args...)
	// Completed and no-show lessons keep their time taken: the completion
	// job must not make past hours look open again without an event.
	b.Queue(`SELECT date, start_time, lower(during), upper(during) FROM bookings
		WHERE instructor_id = $1 AND `+blocksTimeSQL("")+` AND `+filter, args...)
	if withSeq {
		b.Queue(`SELECT COALESCE((SELECT seq FROM topic_seqs WHERE topic = $1), 0)`, market.AvailabilityTopic(instructorID))
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()

	if loc == nil {
		var err error
		if loc, err = scanZone(br.QueryRow()); err != nil {
			return nil, nil, 0, err
		}
	}
	days := map[string]*dayState{}
	get := func(d string) *dayState {
		s := days[d]
		if s == nil {
			s = &dayState{}
			days[d] = s
		}
		return s
	}
	var (
		id         string
		date       time.Time
		start, end pgtype.Time
	)
	rows, _ := br.Query() // an error surfaces from ForEachRow
	if _, err := pgx.ForEachRow(rows, []any{&id, &date, &start, &end}, func() error {
		ds := get(dateString(date))
		s, e := clockOf(start), clockOf(end)
		ds.windows = append(ds.windows, market.Window{ID: id, Date: dateString(date), Start: s.String(), End: e.String()})
		ds.spans = append(ds.spans, span{s, e})
		return nil
	}); err != nil {
		return nil, nil, 0, fmt.Errorf("read windows: %w", err)
	}
	var startsAt, endsAt time.Time
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&date, &start, &startsAt, &endsAt}, func() error {
		ds := get(dateString(date))
		ds.busy = append(ds.busy, busySpan(date, clockOf(start), startsAt, endsAt, loc))
		return nil
	}); err != nil {
		return nil, nil, 0, fmt.Errorf("read bookings: %w", err)
	}
	for _, ds := range days {
		sort.Slice(ds.busy, func(i, j int) bool { return ds.busy[i][0] < ds.busy[j][0] })
	}
	var seq int64
	if withSeq {
		if err := br.QueryRow().Scan(&seq); err != nil {
			return nil, nil, 0, fmt.Errorf("read topic seq: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, nil, 0, fmt.Errorf("read schedule: %w", err)
	}
	return days, loc, seq, nil
}

// scanZone reads an instructor's timezone row: ENOTFOUND when there is
// none.
func scanZone(row pgx.Row) (*time.Location, error) {
	var tz string
	if err := row.Scan(&tz); err != nil {
		if market.ErrorCode(translate(err)) == market.ENOTFOUND {
			return nil, market.Errorf(market.ENOTFOUND, "instructor not found")
		}
		return nil, fmt.Errorf("read instructor: %w", err)
	}
	return loadZone(tz)
}

// batchSender is what the schedule reads need: a transaction, or
// snapshotBatch for a read of its own.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// snapshotBatch sends a read batch as ONE round trip inside its own
// REPEATABLE READ READ ONLY transaction: BEGIN and COMMIT ride in the batch
// (one pipeline, one Sync), so every statement sees the same snapshot — the
// seq and the days it describes agree — without the two extra round trips of
// a separate BEGIN and COMMIT. A failed statement aborts the transaction and
// the COMMIT then rolls it back; the error reaches the caller's reads.
type snapshotBatch struct{ conn *pgxpool.Conn }

func (s snapshotBatch) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+2)}
	full.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	full.Queue("COMMIT")
	br := s.conn.SendBatch(ctx, full)
	if _, err := br.Exec(); err != nil {
		br.Close() //nolint:errcheck // the BEGIN's error is the one to report
		return failedBatch{err}
	}
	return br
}

// failedBatch answers every read of a batch that could not start.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return failedRow(f) }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }

type failedRow struct{ err error }

func (f failedRow) Scan(...any) error { return f.err }

// availabilityIn builds the GET availability shape for [from, to] in tx;
// a nil loc is read from the instructor's profile.
func availabilityIn(ctx context.Context, tx batchSender, instructorID string, loc *time.Location, from, to time.Time) (*market.Availability, error) {
	days, loc, seq, err := readSchedule(ctx, tx, instructorID, loc, from, to, nil, true)
	if err != nil {
		return nil, err
	}
	return availabilityOf(instructorID, loc, seq, days, from, to), nil
}

// availabilityOf is the GET availability shape of [from, to] from days read.
func availabilityOf(instructorID string, loc *time.Location, seq int64, days map[string]*dayState, from, to time.Time) *market.Availability {
	out := &market.Availability{InstructorID: instructorID, Timezone: loc.String(), Seq: seq, Days: []market.Day{}}
	for d := from; !d.After(to); d = addDays(d, 1) {
		day := market.Day{Date: dateString(d), Windows: []market.Window{}, Open: []market.Interval{}}
		if ds := days[day.Date]; ds != nil {
			if ds.windows != nil {
				day.Windows = ds.windows
			}
			day.Open = ds.open()
		}
		out.Days = append(out.Days, day)
	}
	return out
}

// openDays returns the open intervals of dates (sorted) as of tx.
func openDays(ctx context.Context, tx pgx.Tx, instructorID string, loc *time.Location, dates []time.Time) ([]market.OpenDay, error) {
	days, _, _, err := readSchedule(ctx, tx, instructorID, loc, time.Time{}, time.Time{}, dates, false)
	if err != nil {
		return nil, err
	}
	return openDaysOf(days, dates), nil
}

// openDaysOf is the open time of dates (sorted, once each) from days read.
func openDaysOf(days map[string]*dayState, dates []time.Time) []market.OpenDay {
	sorted := slices.Clone(dates)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	sorted = slices.CompactFunc(sorted, func(a, b time.Time) bool { return a.Equal(b) })
	out := make([]market.OpenDay, 0, len(sorted))
	for _, d := range sorted {
		od := market.OpenDay{Date: dateString(d), Open: []market.Interval{}}
		if ds := days[od.Date]; ds != nil {
			od.Open = ds.open()
		}
		out = append(out, od)
	}
	return out
}

// availabilityChangedEvent is the one event a schedule write appends for the
// days it changed.
func availabilityChangedEvent(ctx context.Context, tx pgx.Tx, instructorID string, loc *time.Location, dates []time.Time) (market.NewEvent, error) {
	days, err := openDays(ctx, tx, instructorID, loc, dates)
	if err != nil {
		return market.NewEvent{}, err
	}
	return market.NewEvent{
		Topic: market.AvailabilityTopic(instructorID),
		Type:  market.EventAvailabilityChanged,
		Data:  market.AvailabilityChanged{InstructorID: instructorID, Days: days},
	}, nil
}

// Availability returns, for each date in [from, to] (at most MaxRangeDays),
// the instructor's windows and open intervals, their timezone, and the
// current seq of their availability topic. It reads in one REPEATABLE READ
// read-only transaction so the seq describes exactly the data returned: a
// client that subscribes with since=seq misses nothing and sees nothing
// twice. Returns ENOTFOUND for an unknown instructor, EVALIDATION for a bad range.
func (db *DB) Availability(ctx context.Context, instructorID, from, to string) (*market.Availability, error) {
	f, t, err := parseRange(from, to, "from", "to")
	if err != nil {
		return nil, err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire: %w", translate(err))
	}
	defer conn.Release()
	a, err := availabilityIn(ctx, snapshotBatch{conn}, instructorID, nil, f, t)
	if err != nil {
		return nil, translate(err)
	}
	return a, nil
}

// daySpans reads the windows of dates, by date, sorted by start.
func daySpans(ctx context.Context, tx pgx.Tx, instructorID string, dates []time.Time) (map[string][]span, error) {
	have := map[string][]span{}
	rows, err := tx.Query(ctx, `SELECT date, start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND date = ANY($2) ORDER BY date, start_time`, instructorID, dates)
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	var (
		date       time.Time
		start, end pgtype.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&date, &start, &end}, func() error {
		have[dateString(date)] = append(have[dateString(date)], span{clockOf(start), clockOf(end)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	return have, nil
}

// writeDays makes each listed date hold exactly the given windows. Dates whose
// windows already equal the wanted set are left untouched (window ids stay
// stable); it returns the dates it changed.
func writeDays(ctx context.Context, tx pgx.Tx, instructorID string, want map[time.Time][]span) ([]time.Time, error) {
	if len(want) == 0 {
		return nil, nil
	}
	dates := make([]time.Time, 0, len(want))
	for d := range want {
		dates = append(dates, d)
	}
	slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
	have, err := daySpans(ctx, tx, instructorID, dates)
	if err != nil {
		return nil, err
	}
	var changed []time.Time
	var insDates []time.Time
	var insStart, insEnd []pgtype.Time
	for _, d := range dates {
		if slices.Equal(have[dateString(d)], want[d]) {
			continue
		}
		changed = append(changed, d)
		for _, s := range want[d] {
			insDates = append(insDates, d)
			insStart = append(insStart, pgClock(s[0]))
			insEnd = append(insEnd, pgClock(s[1]))
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM availability_windows WHERE instructor_id = $1 AND date = ANY($2)`,
		instructorID, changed); err != nil {
		return nil, fmt.Errorf("clear windows: %w", err)
	}
	if len(insDates) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
			SELECT $1, d, s, e FROM unnest($2::date[], $3::time[], $4::time[]) AS w(d, s, e)`,
			instructorID, insDates, insStart, insEnd); err != nil {
			return nil, fmt.Errorf("insert windows: %w", err)
		}
	}
	return changed, nil
}

// finishAndRead is finishScheduleWrite for the bulk edits, which answer
// with the schedule of [from, to] as it now stands.
func finishAndRead(ctx context.Context, tx pgx.Tx, instructorID string, loc *time.Location, changed []time.Time, from, to time.Time) (*market.Availability, error) {
	inRange := len(changed) > 0
	for _, d := range changed {
		inRange = inRange && !d.Before(from) && !d.After(to)
	}
	if !inRange {
		if err := finishScheduleWrite(ctx, tx, instructorID, loc, changed); err != nil {
			return nil, err
		}
		return availabilityIn(ctx, tx, instructorID, loc, from, to)
	}
	// The changed days lie in the answered range: one read gives both the
	// event and the answer (the schedule lock keeps them true), and the
	// answer's seq is the event's, since the topic's row stays locked by
	// this transaction until commit.
	days, _, _, err := readSchedule(ctx, tx, instructorID, loc, from, to, nil, false)
	if err != nil {
		return nil, err
	}
	evs, err := appendEvents(ctx, tx, []market.NewEvent{{
		Topic: market.AvailabilityTopic(instructorID),
		Type:  market.EventAvailabilityChanged,
		Data:  market.AvailabilityChanged{InstructorID: instructorID, Days: openDaysOf(days, changed)},
	}})
	if err != nil {
		return nil, err
	}
	return availabilityOf(instructorID, loc, evs[0].Seq, days, from, to), nil
}

// finishScheduleWrite appends the availability.changed event for changed
// (if any) — the last write of the transaction.
func finishScheduleWrite(ctx context.Context, tx pgx.Tx, instructorID string, loc *time.Location, changed []time.Time) error {
	if len(changed) == 0 {
		return nil
	}
	ev, err := availabilityChangedEvent(ctx, tx, instructorID, loc, changed)
	if err != nil {
		return err
	}
	_, err = appendEvents(ctx, tx, []market.NewEvent{ev})
	return err
}

func pastDateError(field string) error {
	return market.ValidationError(map[string]string{field: "is in the past in the instructor's timezone"})
}

// AddWindow adds one window. Returns EVALIDATION for a malformed, misaligned,
// empty, past or overlapping window and ENOTFOUND for an unknown instructor.
func (db *DB) AddWindow(ctx context.Context, instructorID string, date string, w market.WindowInput, now func() time.Time) (*market.Window, error) {
	d, err := market.ParseDate(date)
	fields := map[string]string{}
	if err != nil {
		fields["date"] = "must be a date YYYY-MM-DD"
	} else {
		beyondHorizon(d, "date", fields)
	}
	spans := market.ParseWindows([]market.WindowInput{w}, "", fields)
	if len(fields) > 0 {
		return nil, market.ValidationError(fields)
	}
	s := spans[0]
	var out *market.Window
	err = db.scheduleWrite(ctx, instructorID, func(tx pgx.Tx, loc *time.Location) error {
		if d.Before(localToday(nowFunc(now), loc)) {
			return pastDateError("date")
		}
		// One batch reads the overlap and the day (the schedule lock is
		// held, so nothing changes it until commit); one batch inserts the
		// window and appends the event, whose open time is computed from
		// the rows read plus the new window (no re-read).
		var (
			overlap bool
			day     scheduleDay
			b       = &pgx.Batch{}
		)
		b.Queue(`SELECT EXISTS (SELECT 1 FROM availability_windows
			WHERE instructor_id = $1 AND date = $2 AND start_time < $4 AND end_time > $3)`,
			instructorID, d, pgClock(s[0]), pgClock(s[1])).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&overlap); err != nil {
				return fmt.Errorf("check overlap: %w", err)
			}
			return nil
		})
		day.queue(b, `$2`, instructorID, d)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if overlap {
			return market.ValidationError(map[string]string{"start": "overlaps another window on the same day"})
		}
		spans := append(day.spans, s)
		sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
		w := &pgx.Batch{}
		var id string
		w.Queue(`INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
			VALUES ($1, $2, $3, $4) RETURNING id`, instructorID, d, pgClock(s[0]), pgClock(s[1])).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&id); err != nil {
				return fmt.Errorf("insert window: %w", err)
			}
			return nil
		})
		q, err := queueEvents(tx, w, []market.NewEvent{availabilityChangedOf(instructorID, d, market.OpenTime(d, spans, day.lessons, loc))})
		if err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, w).Close(); err != nil {
			return err
		}
		q.done()
		out = &market.Window{ID: id, Date: dateString(d), Start: s[0].String(), End: s[1].String()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteWindow removes one of the instructor's windows. Bookings inside it
// stay (they are a separate layer). Returns ENOTFOUND when the window does
// not exist or belongs to someone else, EVALIDATION when it is in the past.
func (db *DB) DeleteWindow(ctx context.Context, instructorID, windowID string, now func() time.Time) error {
	return db.scheduleWrite(ctx, instructorID, func(tx pgx.Tx, loc *time.Location) error {
		// As AddWindow: one batch reads the window's date and its day, one
		// deletes it and appends the event computed from those rows.
		var (
			d     time.Time
			found bool
			day   scheduleDay
			b     = &pgx.Batch{}
		)
		b.Queue(`SELECT date FROM availability_windows WHERE id = $2 AND instructor_id = $1`,
			instructorID, windowID).QueryRow(func(row pgx.Row) error {
			return noRowOK(row.Scan(&d), &found, "read window")
		})
		day.queue(b, `(SELECT date FROM availability_windows WHERE id = $2 AND instructor_id = $1)`, instructorID, windowID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !found {
			return market.Errorf(market.ENOTFOUND, "window not found")
		}
		if d.Before(localToday(nowFunc(now), loc)) {
			return market.Errorf(market.EVALIDATION, "window is in the past")
		}
		spans := make([]span, 0, len(day.spans))
		for i, sp := range day.spans {
			if day.ids[i] != windowID {
				spans = append(spans, sp)
			}
		}
		w := &pgx.Batch{}
		w.Queue(`DELETE FROM availability_windows WHERE id = $1`, windowID).Exec(func(pgconn.CommandTag) error { return nil })
		q, err := queueEvents(tx, w, []market.NewEvent{availabilityChangedOf(instructorID, d, market.OpenTime(d, spans, day.lessons, loc))})
		if err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, w).Close(); err != nil {
			return fmt.Errorf("delete window: %w", err)
		}
		q.done()
		return nil
	})
}

// scheduleDay is one date's windows and time-taking bookings, read in a
// caller's batch after the schedule lock (so they stay true until commit).
type scheduleDay struct {
	ids     []string
	spans   []span          // windows, by start
	lessons []market.Lesson // its time-blocking bookings (as readSchedule)
}

// queue reads the day that dateSQL names ($1 is the instructor, args the
// parameters) into d.
func (d *scheduleDay) queue(b *pgx.Batch, dateSQL string, args ...any) {
	b.Queue(`SELECT id, start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND date = `+dateSQL+` ORDER BY start_time`, args...).Query(func(rows pgx.Rows) error {
		var (
			id   string
			s, e pgtype.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&id, &s, &e}, func() error {
			d.ids, d.spans = append(d.ids, id), append(d.spans, span{clockOf(s), clockOf(e)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("read windows: %w", err)
		}
		return nil
	})
	// Completed and no-show lessons keep their time taken (as readSchedule).
	queueLessons(b, &d.lessons, "bookings", `SELECT date, start_time, lower(during), upper(during) FROM bookings
		WHERE instructor_id = $1 AND `+blocksTimeSQL("")+` AND date = `+dateSQL, args...)
}

func parseMonday(s, field string) (time.Time, error) {
	d, err := market.ParseDate(s)
	if err != nil {
		return time.Time{}, market.ValidationError(map[string]string{field: "must be a date YYYY-MM-DD"})
	}
	if d.Weekday() != time.Monday {
		return time.Time{}, market.ValidationError(map[string]string{field: "must be a Monday"})
	}
	if fields := map[string]string{}; beyondHorizon(addDays(d, 6), field, fields) {
		return time.Time{}, market.ValidationError(fields)
	}
	return d, nil
}

// ReplaceWeek makes the Monday-started week hold exactly the days given:
// days absent from days are cleared. It is all or nothing: one invalid
// window anywhere rejects the whole request with per-field details. Days
// already past are never changed: a past day in days must repeat its
// current windows exactly (else EVALIDATION), and absent past days are left
// as they are. Returns the week in the GET availability shape
// (its seq includes this change).
func (db *DB) ReplaceWeek(ctx context.Context, instructorID, weekStart string, days []market.DayInput, now func() time.Time) (*market.Availability, error) {
	ws, err := parseMonday(weekStart, "week_start")
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	want := map[time.Time][]span{}
	for i, day := range days {
		p := fmt.Sprintf("days[%d].", i)
		d, err := market.ParseDate(day.Date)
		if err != nil {
			fields[p+"date"] = "must be a date YYYY-MM-DD"
			continue
		}
		if d.Before(ws) || d.After(addDays(ws, 6)) {
			fields[p+"date"] = "is not in the week starting " + dateString(ws)
			continue
		}
		if _, dup := want[d]; dup {
			fields[p+"date"] = "appears more than once"
			continue
		}
		want[d] = market.ParseWindows(day.Windows, p, fields)
	}
	if len(fields) > 0 {
		return nil, market.ValidationError(fields)
	}
	var out *market.Availability
	err = db.scheduleWrite(ctx, instructorID, func(tx pgx.Tx, loc *time.Location) error {
		// Past days may come back exactly as they are (a client that GETs
		// the current week, edits today onward and PUTs it all); changing
		// one is refused.
		today := localToday(nowFunc(now), loc)
		var past []time.Time
		for d := range want {
			if d.Before(today) {
				past = append(past, d)
			}
		}
		if len(past) > 0 {
			have, err := daySpans(ctx, tx, instructorID, past)
			if err != nil {
				return err
			}
			for i, day := range days {
				d, _ := market.ParseDate(day.Date)
				if !d.Before(today) {
					continue
				}
				if !slices.Equal(have[dateString(d)], want[d]) {
					fields[fmt.Sprintf("days[%d].date", i)] = "is in the past in the instructor's timezone and cannot change"
				}
				delete(want, d)
			}
			if len(fields) > 0 {
				return market.ValidationError(fields)
			}
		}
		for d := ws; d.Before(addDays(ws, 7)); d = addDays(d, 1) {
			if _, ok := want[d]; !ok && !d.Before(today) {
				want[d] = nil
			}
		}
		changed, err := writeDays(ctx, tx, instructorID, want)
		if err != nil {
			return err
		}
		out, err = finishAndRead(ctx, tx, instructorID, loc, changed, ws, addDays(ws, 6))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// copyOnto makes every date in [from, to] from today on hold the windows of
// the same weekday of the source week.
func copyOnto(ctx context.Context, tx pgx.Tx, instructorID string, source, from, to, today time.Time) ([]time.Time, error) {
	src := make(map[time.Weekday][]span, 7)
	rows, err := tx.Query(ctx, `SELECT date, start_time, end_time FROM availability_windows
		WHERE instructor_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date, start_time`,
		instructorID, source, addDays(source, 6))
	if err != nil {
		return nil, fmt.Errorf("read source week: %w", err)
	}
	var (
		date       time.Time
		start, end pgtype.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&date, &start, &end}, func() error {
		src[date.Weekday()] = append(src[date.Weekday()], span{clockOf(start), clockOf(end)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read source week: %w", err)
	}
	want := map[time.Time][]span{}
	for d := from; !d.After(to); d = addDays(d, 1) {
		if !d.Before(today) {
			want[d] = src[d.Weekday()]
		}
	}
	return writeDays(ctx, tx, instructorID, want)
}

// CopyWeek makes the target week a copy of the source week, weekday by
// weekday (target days whose source day is empty are cleared). Past days of
// the target week are left as they are; a target week wholly in the past is
// EVALIDATION. Returns the target week.
func (db *DB) CopyWeek(ctx context.Context, instructorID, sourceWeekStart, targetWeekStart string, now func() time.Time) (*market.Availability, error) {
	src, err := parseMonday(sourceWeekStart, "from_week_start")
	if err != nil {
		return nil, err
	}
	dst, err := parseMonday(targetWeekStart, "to_week_start")
	if err != nil {
		return nil, err
	}
	var out *market.Availability
	err = db.scheduleWrite(ctx, instructorID, func(tx pgx.Tx, loc *time.Location) error {
		today := localToday(nowFunc(now), loc)
		if addDays(dst, 6).Before(today) {
			return pastDateError("to_week_start")
		}
		changed, err := copyOnto(ctx, tx, instructorID, src, dst, addDays(dst, 6), today)
		if err != nil {
			return err
		}
		out, err = finishAndRead(ctx, tx, instructorID, loc, changed, dst, addDays(dst, 6))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ApplyPattern copies the source week onto every date of [from, to] (at most
// MaxRangeDays), weekday by weekday: each date ends up with exactly the
// windows of the same weekday of the source week. from must not be in the
// past. Returns the range in the GET availability shape (one
// availability.changed event covers all changed days).
func (db *DB) ApplyPattern(ctx context.Context, instructorID, sourceWeekStart, from, to string, now func() time.Time) (*market.Availability, error) {
	src, err := parseMonday(sourceWeekStart, "week_start")
	if err != nil {
		return nil, err
	}
	f, t, err := parseRange(from, to, "from", "to")
	if err != nil {
		return nil, err
	}
	var out *market.Availability
	err = db.scheduleWrite(ctx, instructorID, func(tx pgx.Tx, loc *time.Location) error {
		today := localToday(nowFunc(now), loc)
		if f.Before(today) {
			return pastDateError("from")
		}
		changed, err := copyOnto(ctx, tx, instructorID, src, f, t, today)
		if err != nil {
			return err
		}
		out, err = finishAndRead(ctx, tx, instructorID, loc, changed, f, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
