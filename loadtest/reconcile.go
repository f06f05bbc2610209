package main

import (
	"fmt"
	"math/bits"
	"time"
)

// result reconciles what every connection received against what had to
// arrive, and assembles the Result. Readers have stopped.
func (r *runner) result(drained time.Duration) *Result {
	cfg := r.cfg
	st := r.st
	res := &Result{
		Scenario: cfg.Scenario, RunID: cfg.RunID, StartedAt: r.setupStart, Config: cfg, Nodes: cfg.URLs,
		LoadSecs: r.loadEnd.Sub(r.loadStart).Seconds(), DrainSecs: drained.Seconds(),
		Latency: st.hist, Warnings: r.warnings,
	}
	res.Errors, res.Notes = st.snapshot()
	// The combined rows are merged here rather than recorded per delivery,
	// to keep the receive path at one histogram update.
	st.hist[hPushSameAll].Merge(st.hist[hPushAvailSame])
	st.hist[hPushSameAll].Merge(st.hist[hPushBookingSame])
	st.hist[hPushCrossAll].Merge(st.hist[hPushAvailCross])
	st.hist[hPushCrossAll].Merge(st.hist[hPushBookingCross])

	cs := &res.Connections
	cs.Requested = len(r.clients)
	cs.ByNode = make([]int, len(cfg.URLs))
	for _, c := range r.clients {
		if c.dead {
			cs.Failed++
			continue
		}
		cs.Open++
		cs.ByNode[c.node]++
		if c.sess != nil && c.role == roleWatcher {
			cs.SignedIn++
		}
		if c.role == roleInstructor {
			cs.Instructors++
		}
	}
	cs.SetupSecs = r.connectTime.Seconds()
	if r.connectTime > 0 {
		cs.PerSecond = float64(len(r.clients)) / r.connectTime.Seconds()
	}
	cs.Reconnects = st.reconnects.Load()

	b := &res.Bookings
	b.TargetRate = cfg.Rate
	b.Scheduled, b.Sent, b.Created = st.scheduled.Load(), st.sent.Load(), st.created.Load()
	b.Conflicts, b.Errors, b.NoOpenSlot, b.Dropped = st.conflicts.Load(), st.bookErrors.Load(), st.noSlot.Load(), st.dropped.Load()
	b.CancelsSent, b.Cancelled, b.CancelErrors = st.cancelSent.Load(), st.cancelled.Load(), st.cancelErrors.Load()
	b.Gets, b.GetErrors, b.Replays = st.gets.Load(), st.getErrors.Load(), st.replays.Load()
	b.Shed, b.CancelShed = st.shed.Load(), st.cancelShed.Load()
	if res.LoadSecs > 0 {
		b.AchievedRate = float64(b.Sent) / res.LoadSecs // POSTs actually sent
	}

	d := &res.Delivery
	sample := func(s string) {
		if len(d.Samples) < 10 {
			d.Samples = append(d.Samples, s)
		}
	}
	for _, c := range r.clients {
		for _, s := range c.order {
			if !s.acked {
				if s.failed != "" || c.dead {
					d.SubscribesRefused++
				}
				continue
			}
			d.Subscriptions++
			final := s.track.final
			if final > s.ackSeq {
				d.ExpectedEvents += final - s.ackSeq
			}
			d.ReceivedEvents += s.received
			lost := s.gaps
			if s.last < final {
				lost += final - s.last
				sample(fmt.Sprintf("lost: %s conn on node %d: last seq %d, topic at %d", s.topic, c.node, s.last, final))
			}
			for _, g := range s.gapSamples {
				sample("lost: gap " + g)
			}
			d.Lost += lost
			d.Duplicated += s.dups
			d.BeforeAck += s.preAck
			d.Resets += s.resets
			d.SkippedByReset += s.resetSkipped
		}
		if c.user != nil {
			d.UserTopicGaps += c.user.gaps
			d.UserTopicDups += c.user.dups
			d.BookingPushDup += c.bookingDups
		}
	}
	byUser := map[string][]*wsClient{}
	for _, c := range r.clients {
		if c.sess != nil {
			byUser[c.sess.UserID] = append(byUser[c.sess.UserID], c)
		}
	}
	for _, bk := range r.books.all() {
		for _, c := range append(byUser[bk.instructor], byUser[bk.student]...) {
			got := c.seen[bk.id]
			want := uint8(pushCreated)
			if bk.cancelled {
				want |= pushCancelled
			}
			d.BookingPushExpected += int64(bits.OnesCount8(want))
			d.BookingPushReceived += int64(bits.OnesCount8(got & want))
			if miss := want &^ got; miss != 0 {
				d.BookingPushLost += int64(bits.OnesCount8(miss))
				sample(fmt.Sprintf("lost: booking %s: %s connection on node %d missed push flags %b", bk.id, c.role, c.node, miss))
			}
			if !bk.cancelled && !bk.cancelLost && got&pushCancelled != 0 {
				d.BookingPushUnwanted++
			}
		}
	}

	// Pushes about bookings this run never got a 201 for: a second booking
	// made by an idempotent replay would show up here. A POST that timed
	// out may have created one too, so they only fail a run without errors.
	all := map[string]bool{}
	for _, bk := range r.books.all() {
		all[bk.id] = true
	}
	for _, c := range r.clients {
		for id := range c.seen {
			if !all[id] {
				d.BookingPushUnknown++
				sample("unknown: push for booking " + id + " that no POST of this run returned")
			}
		}
	}

	var receivers int64
	for _, t := range r.tracks {
		ev, complete, rc := t.fanout(st)
		res.Fanout.Events += ev
		res.Fanout.CompleteEvents += complete
		receivers += rc
	}
	if res.Fanout.Events > 0 {
		res.Fanout.AvgReceivers = float64(receivers) / float64(res.Fanout.Events)
	}

	res.judge()
	return res
}
