package scenario

import (
	"context"
	"errors"
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"
)

// openLoop calls op at rate per second until ctx ends. Each call gets its
// intended start time: when the server slows, calls pile up instead of the
// schedule stretching, and latency is measured from the intended time, so
// the numbers do not hide stalls (no coordinated omission).
func (r *runner) openLoop(ctx context.Context, rate float64, seed uint64, op func(intended time.Time, n int64)) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, seed))
	interval := float64(time.Second) / rate
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var offset time.Duration
	for n := int64(0); ; n++ {
		if r.cfg.Poisson {
			offset += time.Duration(rng.ExpFloat64() * interval)
		} else {
			offset = time.Duration(float64(n) * interval)
		}
		intended := start.Add(offset)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		if r.inFlight.Load() >= int64(r.cfg.MaxInFlight) {
			r.st.Dropped.Add(1)
			r.st.Fail("in_flight_limit_reached")
			continue
		}
		r.inFlight.Add(1)
		r.ops.Add(1)
		go func() {
			defer r.ops.Done()
			defer r.inFlight.Add(-1)
			op(intended, n)
		}()
	}
}

// book makes one booking attempt for the n-th scheduled operation.
func (r *runner) book(ctx context.Context, intended time.Time, n int64) {
	r.st.Scheduled.Add(1)
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(n)<<1|1))
	s := r.instructors[rng.IntN(len(r.instructors))]
	student := r.students[int(n)%len(r.students)]
	notBefore := time.Now().Add(time.Hour + 10*time.Minute)
	sl, ok := s.pick(rng, notBefore)
	if !ok {
		r.st.NoSlot.Add(1)
		r.st.Note("booking_slot_chosen_blind_no_open_time_in_view")
		if sl, ok = s.pickBlind(rng, notBefore, r.from, r.cfg.DaysAhead); !ok {
			r.st.Fail("booking_no_slot_at_all")
			return
		}
	}
	node := r.home[s.instructorID]
	req := client.BookingRequest{
		InstructorID: s.instructorID, InstructorServiceID: sl.serviceID,
		Date: sl.date, StartTime: sl.start, DurationMinutes: sl.duration,
	}
	r.st.Sent.Add(1)
	sent := time.Now()
	b, err := r.api.Book(ctx, r.cfg.URLs[node], student.Token, fmt.Sprintf("lt-%s-%d", r.cfg.RunID, n), req)
	done := time.Now()
	r.st.Record(measure.HBookingPost, done.Sub(intended))
	r.st.Record(measure.HBookingService, done.Sub(sent))
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			r.st.Conflicts.Add(1)
			r.st.Note("booking_409_" + ae.Code)
			return
		}
		if client.IsShed(err) {
			r.st.Shed.Add(1)
			return
		}
		r.st.BookErrors.Add(1)
		r.st.Fail("booking_" + client.ErrorKind(err))
		return
	}
	r.st.Created.Add(1)
	s.reserve(sl)
	rec := &measure.BookingRec{ID: b.ID, Instructor: s.instructorID, Student: student.UserID}
	r.books.Add(rec)
	if rng.Float64() < r.cfg.ReplayRatio {
		// A client retrying after a lost answer: the same key must return
		// the same booking and create (and announce) nothing new.
		r.st.Replays.Add(1)
		again, err := r.api.Book(ctx, r.cfg.URLs[node], student.Token, fmt.Sprintf("lt-%s-%d", r.cfg.RunID, n), req)
		switch {
		case client.IsShed(err):
			r.st.Note("idempotent_replay_shed_503")
		case err != nil:
			r.st.Fail("idempotent_replay_" + client.ErrorKind(err))
		case again.ID != b.ID:
			r.st.Fail("idempotent_replay_returned_another_booking")
		}
	}
	if rng.Float64() < r.cfg.CancelRatio {
		at := intended.Add(r.cfg.CancelAfter)
		r.ops.Add(1)
		time.AfterFunc(time.Until(at), func() {
			defer r.ops.Done()
			r.cancel(ctx, at, rec, student, node)
		})
	}
}

// cancel cancels a booking the generator made, latency from its intended time.
func (r *runner) cancel(ctx context.Context, intended time.Time, rec *measure.BookingRec, student *client.Session, node int) {
	if ctx.Err() != nil {
		return
	}
	r.st.CancelSent.Add(1)
	err := r.api.Cancel(ctx, r.cfg.URLs[node], student.Token, rec.ID)
	r.st.Record(measure.HCancelPost, time.Since(intended))
	if client.IsShed(err) { // the booking stays, and no cancellation push is due
		r.st.CancelShed.Add(1)
		return
	}
	if err != nil {
		r.st.CancelErrors.Add(1)
		r.st.Fail("cancel_" + client.ErrorKind(err))
		var ae *client.APIError
		if !errors.As(err, &ae) {
			r.books.Update(rec.ID, func(b *measure.BookingRec) { b.CancelLost = true })
		}
		return
	}
	r.st.Cancelled.Add(1)
	r.books.Update(rec.ID, func(b *measure.BookingRec) { b.Cancelled = true })
}

// get reads one instructor's availability for a week, as a browsing student.
func (r *runner) get(ctx context.Context, intended time.Time, n int64) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(n)<<1))
	s := r.instructors[rng.IntN(len(r.instructors))]
	node := r.cfg.URLs[rng.IntN(len(r.cfg.URLs))]
	from, _ := time.Parse("2006-01-02", r.from)
	to := from.AddDate(0, 0, 6).Format("2006-01-02")
	_, err := r.api.Availability(ctx, node, s.instructorID, r.from, to)
	r.st.Record(measure.HGetAvailability, time.Since(intended))
	r.st.Gets.Add(1)
	if err != nil {
		r.st.GetErrors.Add(1)
		r.st.Fail("get_availability_" + client.ErrorKind(err))
	}
}

// progressLoop prints line(elapsed) every second until the returned stop is
// called: in place on a terminal, one line per second otherwise.
func (r *runner) progressLoop(line func(elapsed time.Duration) string) (stop func()) {
	if r.cfg.Quiet {
		return func() {}
	}
	tty := false
	if f, ok := r.out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprintf(r.out, "\r\033[K%s\n", line(time.Since(start)))
				}
				return
			case <-t.C:
				if tty {
					fmt.Fprintf(r.out, "\r\033[K%s", line(time.Since(start)))
				} else {
					fmt.Fprintln(r.out, line(time.Since(start)))
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func (r *runner) liveLine(el time.Duration) string {
	st := r.st
	return fmt.Sprintf("[%5.1fs] bookings sent %d ok %d 409 %d shed %d err %d p99 %s | cancel %d | get %d | pushes avail %d booking %d | conns %d reconnects %d | in flight %d | errors %d",
		el.Seconds(), st.Sent.Load(), st.Created.Load(), st.Conflicts.Load(), st.Shed.Load(), st.BookErrors.Load(),
		measure.FmtDur(st.Hist[measure.HBookingPost].Quantile(0.99)), st.Cancelled.Load(), st.Gets.Load(),
		st.AvailRecv.Load(), st.BookingPushRecv.Load(), st.Connected.Load(), st.Reconnects.Load(),
		r.inFlight.Load(), st.ErrorTotal())
}

// load runs the open-loop phase, drains, reconciles and builds the result.
func (r *runner) load(ctx context.Context) *report.Result {
	cfg := r.cfg
	cpu0, snap0 := floor.CPUSeconds(), r.snapServers(ctx)
	r.loadStart = time.Now()
	lctx, cancel := context.WithDeadline(ctx, r.loadStart.Add(cfg.Duration))
	stop := r.progressLoop(r.liveLine)
	var sched sync.WaitGroup
	if cfg.Rate > 0 {
		sched.Add(1)
		go func() {
			defer sched.Done()
			r.openLoop(lctx, cfg.Rate, 1, func(t time.Time, n int64) { r.book(ctx, t, n) })
		}()
	}
	if cfg.GetRate > 0 {
		sched.Add(1)
		go func() {
			defer sched.Done()
			r.openLoop(lctx, cfg.GetRate, 2, func(t time.Time, n int64) { r.get(ctx, t, n) })
		}()
	}
	if cfg.Rate == 0 && cfg.GetRate == 0 {
		<-lctx.Done()
	}
	sched.Wait()
	cancel()
	r.loadEnd = time.Now()
	r.ops.Wait() // in-flight requests and the cancellations scheduled after them
	stop()

	drainStart := time.Now()
	r.readFinalSeqs(ctx)
	expAvail, expBooking := r.expected()
	deadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.st.AvailRecv.Load() >= expAvail && r.st.BookingPushRecv.Load() >= expBooking {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	r.closeAll()

	res := r.result(drained)
	res.CPU.WallSecs = time.Since(r.loadStart).Seconds()
	res.CPU.GeneratorSecs = floor.CPUSeconds() - cpu0
	res.Server = report.ServerStatsFrom(cfg.URLs, snap0, r.snapServers(ctx))
	if cfg.Cleanup {
		res.Bookings.CleanupCancelled = r.cleanup(ctx)
	}
	return res
}

// readFinalSeqs reads every watched topic's seq over REST once writes stopped.
func (r *runner) readFinalSeqs(ctx context.Context) {
	for _, t := range r.tracks {
		av, err := r.api.Availability(ctx, r.cfg.URLs[0], t.InstructorID, r.from, r.from)
		if err != nil {
			r.st.Fail("final_seq_" + client.ErrorKind(err))
			continue
		}
		t.Final = av.Seq
	}
}

// expected counts the deliveries the drain waits for.
func (r *runner) expected() (avail, booking int64) {
	for _, t := range r.tracks {
		t.Mu.Lock()
		for _, s := range t.Subs {
			if s.Acked && s.Failed == "" && t.Final > s.AckSeq {
				avail += t.Final - s.AckSeq
			}
		}
		t.Mu.Unlock()
	}
	for _, b := range r.books.All() {
		n := int64(r.connsOf[b.Instructor] + r.connsOf[b.Student])
		booking += n
		if b.Cancelled {
			booking += n
		}
	}
	return avail, booking
}

// cleanup cancels the bookings left confirmed, so the next scenario on the
// same database finds the instructors' time open again. Not measured. Besides
// the bookings it got a 201 for, it cancels those only the students'
// sockets heard of (a POST that timed out may still have committed).
func (r *runner) cleanup(ctx context.Context) int {
	tok := map[string]*client.Session{}
	for _, s := range r.students {
		tok[s.UserID] = s
	}
	left := map[string]*measure.BookingRec{}
	for _, b := range r.books.All() {
		if !b.Cancelled {
			left[b.ID] = b
		}
	}
	for _, c := range r.clients {
		if c.Sess == nil || tok[c.Sess.UserID] == nil {
			continue
		}
		for id, f := range c.Seen {
			if f&measure.PushCreated != 0 && f&measure.PushCancelled == 0 && left[id] == nil && r.books.Get(id) == nil {
				left[id] = &measure.BookingRec{ID: id, Student: c.Sess.UserID, Instructor: r.instructors[0].instructorID}
			}
		}
	}
	var (
		mu sync.Mutex
		n  int
		wg sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for _, b := range left {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if r.api.Cancel(ctx, r.cfg.URLs[r.home[b.Instructor]], tok[b.Student].Token, b.ID) == nil {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return n
}

// closeAll stops every reader: cancel first (so a reader that sees its
// socket fail, or a reconnect that completes, knows to stop), then close.
func (r *runner) closeAll() {
	r.stopReads()
	for _, c := range r.clients {
		if conn := c.Conn.Load(); conn != nil {
			conn.CloseNow()
		}
	}
	r.readers.Wait()
}
