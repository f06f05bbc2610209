package scenario

import (
	"fmt"
	"math/bits"
	"time"

	"instainstru/loadtest/client"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
)

// result reconciles what every connection received against what had to
// arrive, and assembles the Result. Readers have stopped.
func (r *runner) result(drained time.Duration) *report.Result {
	cfg := r.cfg
	st := r.st
	res := &report.Result{
		Scenario: cfg.Scenario, RunID: cfg.RunID, StartedAt: r.setupStart, Config: cfg, Nodes: cfg.URLs,
		LoadSecs: r.loadEnd.Sub(r.loadStart).Seconds(), DrainSecs: drained.Seconds(),
		Latency: st.Hist, Warnings: r.warnings,
	}
	res.Errors, res.Notes = st.Snapshot()
	// The combined rows are merged here rather than recorded per delivery,
	// to keep the receive path at one histogram update.
	st.Hist[measure.HPushSameAll].Merge(st.Hist[measure.HPushAvailSame])
	st.Hist[measure.HPushSameAll].Merge(st.Hist[measure.HPushBookingSame])
	st.Hist[measure.HPushCrossAll].Merge(st.Hist[measure.HPushAvailCross])
	st.Hist[measure.HPushCrossAll].Merge(st.Hist[measure.HPushBookingCross])

	r.connectionStats(&res.Connections)
	r.bookingStats(&res.Bookings, res.LoadSecs)
	d := &res.Delivery
	r.reconcileTopics(d)
	r.reconcileBookingPushes(d)
	r.reconcileUnknownPushes(d)
	r.fanoutStats(&res.Fanout)
	res.Judge()
	return res
}

// connectionStats counts the connections opened, failed and by node.
func (r *runner) connectionStats(cs *report.ConnStats) {
	cs.Requested = len(r.clients)
	cs.ByNode = make([]int, len(r.cfg.URLs))
	for _, c := range r.clients {
		if c.Dead {
			cs.Failed++
			continue
		}
		cs.Open++
		cs.ByNode[c.Node]++
		if c.Sess != nil && c.Role == client.RoleWatcher {
			cs.SignedIn++
		}
		if c.Role == client.RoleInstructor {
			cs.Instructors++
		}
	}
	cs.SetupSecs = r.connectTime.Seconds()
	if r.connectTime > 0 {
		cs.PerSecond = float64(len(r.clients)) / r.connectTime.Seconds()
	}
	cs.Reconnects = r.st.Reconnects.Load()
}

// bookingStats copies the booking counters; loadSecs gives the rate sent.
func (r *runner) bookingStats(b *report.BookingStats, loadSecs float64) {
	st := r.st
	b.TargetRate = r.cfg.Rate
	b.Scheduled, b.Sent, b.Created = st.Scheduled.Load(), st.Sent.Load(), st.Created.Load()
	b.Conflicts, b.Errors, b.NoOpenSlot, b.Dropped = st.Conflicts.Load(), st.BookErrors.Load(), st.NoSlot.Load(), st.Dropped.Load()
	b.CancelsSent, b.Cancelled, b.CancelErrors = st.CancelSent.Load(), st.Cancelled.Load(), st.CancelErrors.Load()
	b.Gets, b.GetErrors, b.Replays = st.Gets.Load(), st.GetErrors.Load(), st.Replays.Load()
	b.Shed, b.CancelShed = st.Shed.Load(), st.CancelShed.Load()
	if loadSecs > 0 {
		b.AchievedRate = float64(b.Sent) / loadSecs // POSTs actually sent
	}
}

// sample keeps the first ten examples of what went missing or astray.
func sample(d *report.DeliveryStats, s string) {
	if len(d.Samples) < 10 {
		d.Samples = append(d.Samples, s)
	}
}

// reconcileTopics checks every subscription held every seq from its ack to
// its topic's final seq exactly once, and sums the private topics' gaps.
func (r *runner) reconcileTopics(d *report.DeliveryStats) {
	for _, c := range r.clients {
		for _, s := range c.Order {
			if !s.Acked {
				if s.Failed != "" || c.Dead {
					d.SubscribesRefused++
				}
				continue
			}
			d.Subscriptions++
			final := s.Track.Final
			if final > s.AckSeq {
				d.ExpectedEvents += final - s.AckSeq
			}
			d.ReceivedEvents += s.Received
			lost := s.Gaps
			if s.Last < final {
				lost += final - s.Last
				sample(d, fmt.Sprintf("lost: %s conn on node %d: last seq %d, topic at %d", s.Topic, c.Node, s.Last, final))
			}
			for _, g := range s.GapSamples {
				sample(d, "lost: gap "+g)
			}
			d.Lost += lost
			d.Duplicated += s.Dups
			d.BeforeAck += s.PreAck
			d.Resets += s.Resets
			d.SkippedByReset += s.ResetSkipped
		}
		if c.User != nil {
			d.UserTopicGaps += c.User.Gaps
			d.UserTopicDups += c.User.Dups
			d.BookingPushDup += c.BookingDups
		}
	}
}

// reconcileBookingPushes checks every booking reached each connection of
// its instructor and student (created, and cancelled when it was).
func (r *runner) reconcileBookingPushes(d *report.DeliveryStats) {
	byUser := map[string][]*client.WSClient{}
	for _, c := range r.clients {
		if c.Sess != nil {
			byUser[c.Sess.UserID] = append(byUser[c.Sess.UserID], c)
		}
	}
	for _, bk := range r.books.All() {
		for _, c := range append(byUser[bk.Instructor], byUser[bk.Student]...) {
			got := c.Seen[bk.ID]
			want := uint8(measure.PushCreated)
			if bk.Cancelled {
				want |= measure.PushCancelled
			}
			d.BookingPushExpected += int64(bits.OnesCount8(want))
			d.BookingPushReceived += int64(bits.OnesCount8(got & want))
			if miss := want &^ got; miss != 0 {
				d.BookingPushLost += int64(bits.OnesCount8(miss))
				sample(d, fmt.Sprintf("lost: booking %s: %s connection on node %d missed push flags %b", bk.ID, c.Role, c.Node, miss))
			}
			if !bk.Cancelled && !bk.CancelLost && got&measure.PushCancelled != 0 {
				d.BookingPushUnwanted++
			}
		}
	}
}

// reconcileUnknownPushes counts pushes about bookings this run never got a
// 201 for: a second booking made by an idempotent replay would show up
// here. A POST that timed out may have created one too, so they only fail
// a run without errors.
func (r *runner) reconcileUnknownPushes(d *report.DeliveryStats) {
	all := map[string]bool{}
	for _, bk := range r.books.All() {
		all[bk.ID] = true
	}
	for _, c := range r.clients {
		for id := range c.Seen {
			if !all[id] {
				d.BookingPushUnknown++
				sample(d, "unknown: push for booking "+id+" that no POST of this run returned")
			}
		}
	}
}

// fanoutStats sums each topic's fan-out of its complete events.
func (r *runner) fanoutStats(f *report.FanoutStats) {
	var receivers int64
	for _, t := range r.tracks {
		ev, complete, rc := t.Fanout(r.st)
		f.Events += ev
		f.CompleteEvents += complete
		receivers += rc
	}
	if f.Events > 0 {
		f.AvgReceivers = float64(receivers) / float64(f.Events)
	}
}
