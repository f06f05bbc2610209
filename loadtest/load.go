package main

import (
	"context"
	"errors"
	"fmt"
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
			r.st.dropped.Add(1)
			r.st.fail("in_flight_limit_reached")
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
	r.st.scheduled.Add(1)
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(n)<<1|1))
	s := r.instructors[rng.IntN(len(r.instructors))]
	student := r.students[int(n)%len(r.students)]
	notBefore := time.Now().Add(time.Hour + 10*time.Minute)
	sl, ok := s.pick(rng, notBefore)
	if !ok {
		r.st.noSlot.Add(1)
		r.st.note("booking_slot_chosen_blind_no_open_time_in_view")
		if sl, ok = s.pickBlind(rng, notBefore, r.from, r.cfg.DaysAhead); !ok {
			r.st.fail("booking_no_slot_at_all")
			return
		}
	}
	node := r.home[s.instructorID]
	req := bookingRequest{
		InstructorID: s.instructorID, InstructorServiceID: sl.serviceID,
		Date: sl.date, StartTime: sl.start, DurationMinutes: sl.duration,
	}
	r.st.sent.Add(1)
	sent := time.Now()
	b, err := r.api.book(ctx, r.cfg.URLs[node], student.Token, fmt.Sprintf("lt-%s-%d", r.cfg.RunID, n), req)
	done := time.Now()
	r.st.record(hBookingPost, done.Sub(intended))
	r.st.record(hBookingService, done.Sub(sent))
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			r.st.conflicts.Add(1)
			r.st.note("booking_409_" + ae.Code)
			return
		}
		if isShed(err) {
			r.st.shed.Add(1)
			return
		}
		r.st.bookErrors.Add(1)
		r.st.fail("booking_" + errorKind(err))
		return
	}
	r.st.created.Add(1)
	s.reserve(sl)
	rec := &bookingRec{id: b.ID, instructor: s.instructorID, student: student.UserID}
	r.books.add(rec)
	if rng.Float64() < r.cfg.ReplayRatio {
		// A client retrying after a lost answer: the same key must return
		// the same booking and create (and announce) nothing new.
		r.st.replays.Add(1)
		again, err := r.api.book(ctx, r.cfg.URLs[node], student.Token, fmt.Sprintf("lt-%s-%d", r.cfg.RunID, n), req)
		switch {
		case isShed(err):
			r.st.note("idempotent_replay_shed_503")
		case err != nil:
			r.st.fail("idempotent_replay_" + errorKind(err))
		case again.ID != b.ID:
			r.st.fail("idempotent_replay_returned_another_booking")
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
func (r *runner) cancel(ctx context.Context, intended time.Time, rec *bookingRec, student *session, node int) {
	if ctx.Err() != nil {
		return
	}
	r.st.cancelSent.Add(1)
	err := r.api.cancel(ctx, r.cfg.URLs[node], student.Token, rec.id)
	r.st.record(hCancelPost, time.Since(intended))
	if isShed(err) { // the booking stays, and no cancellation push is due
		r.st.cancelShed.Add(1)
		return
	}
	if err != nil {
		r.st.cancelErrors.Add(1)
		r.st.fail("cancel_" + errorKind(err))
		var ae *apiError
		if !errors.As(err, &ae) {
			r.books.update(rec.id, func(b *bookingRec) { b.cancelLost = true })
		}
		return
	}
	r.st.cancelled.Add(1)
	r.books.update(rec.id, func(b *bookingRec) { b.cancelled = true })
}

// get reads one instructor's availability for a week, as a browsing student.
func (r *runner) get(ctx context.Context, intended time.Time, n int64) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(n)<<1))
	s := r.instructors[rng.IntN(len(r.instructors))]
	node := r.cfg.URLs[rng.IntN(len(r.cfg.URLs))]
	from, _ := time.Parse("2006-01-02", r.from)
	to := from.AddDate(0, 0, 6).Format("2006-01-02")
	_, err := r.api.availability(ctx, node, s.instructorID, r.from, to)
	r.st.record(hGetAvailability, time.Since(intended))
	r.st.gets.Add(1)
	if err != nil {
		r.st.getErrors.Add(1)
		r.st.fail("get_availability_" + errorKind(err))
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
		el.Seconds(), st.sent.Load(), st.created.Load(), st.conflicts.Load(), st.shed.Load(), st.bookErrors.Load(),
		fmtDur(st.hist[hBookingPost].Quantile(0.99)), st.cancelled.Load(), st.gets.Load(),
		st.availRecv.Load(), st.bookingPushRecv.Load(), st.connected.Load(), st.reconnects.Load(),
		r.inFlight.Load(), st.errorTotal())
}

// load runs the open-loop phase, drains, reconciles and builds the result.
func (r *runner) load(ctx context.Context) *Result {
	cfg := r.cfg
	cpu0, snap0 := cpuSeconds(), r.snapServers(ctx)
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
		if r.st.availRecv.Load() >= expAvail && r.st.bookingPushRecv.Load() >= expBooking {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	r.closeAll()

	res := r.result(drained)
	res.CPU.WallSecs = time.Since(r.loadStart).Seconds()
	res.CPU.GeneratorSecs = cpuSeconds() - cpu0
	res.Server = serverStatsFrom(cfg.URLs, snap0, r.snapServers(ctx))
	if cfg.Cleanup {
		res.Bookings.CleanupCancelled = r.cleanup(ctx)
	}
	return res
}

// readFinalSeqs reads every watched topic's seq over REST once writes stopped.
func (r *runner) readFinalSeqs(ctx context.Context) {
	for _, t := range r.tracks {
		av, err := r.api.availability(ctx, r.cfg.URLs[0], t.instructorID, r.from, r.from)
		if err != nil {
			r.st.fail("final_seq_" + errorKind(err))
			continue
		}
		t.final = av.Seq
	}
}

// expected counts the deliveries the drain waits for.
func (r *runner) expected() (avail, booking int64) {
	for _, t := range r.tracks {
		t.mu.Lock()
		for _, s := range t.subs {
			if s.acked && s.failed == "" && t.final > s.ackSeq {
				avail += t.final - s.ackSeq
			}
		}
		t.mu.Unlock()
	}
	for _, b := range r.books.all() {
		n := int64(r.connsOf[b.instructor] + r.connsOf[b.student])
		booking += n
		if b.cancelled {
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
	tok := map[string]*session{}
	for _, s := range r.students {
		tok[s.UserID] = s
	}
	left := map[string]*bookingRec{}
	for _, b := range r.books.all() {
		if !b.cancelled {
			left[b.id] = b
		}
	}
	for _, c := range r.clients {
		if c.sess == nil || tok[c.sess.UserID] == nil {
			continue
		}
		for id, f := range c.seen {
			if f&pushCreated != 0 && f&pushCancelled == 0 && left[id] == nil && r.books.get(id) == nil {
				left[id] = &bookingRec{id: id, student: c.sess.UserID, instructor: r.instructors[0].instructorID}
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
			if r.api.cancel(ctx, r.cfg.URLs[r.home[b.instructor]], tok[b.student].Token, b.id) == nil {
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
		if conn := c.conn.Load(); conn != nil {
			conn.CloseNow()
		}
	}
	r.readers.Wait()
}
