package scenario

import (
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
	"math/bits"
	"time"
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

	cs := &res.Connections
	cs.Requested = len(r.clients)
	cs.ByNode = make([]int, len(cfg.URLs))
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
	cs.Reconnects = st.Reconnects.Load()

	b := &res.Bookings
	b.TargetRate = cfg.Rate
	b.Scheduled, b.Sent, b.Created = st.Scheduled.Load(), st.Sent.Load(), st.Created.Load()
	b.Conflicts, b.Errors, b.NoOpenSlot, b.Dropped = st.Conflicts.Load(), st.BookErrors.Load(), st.NoSlot.Load(), st.Dropped.Load()
	b.CancelsSent, b.Cancelled, b.CancelErrors = st.CancelSent.Load(), st.Cancelled.Load(), st.CancelErrors.Load()
	b.Gets, b.GetErrors, b.Replays = st.Gets.Load(), st.GetErrors.Load(), st.Replays.Load()
	b.Shed, b.CancelShed = st.Shed.Load(), st.CancelShed.Load()
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
				sample(fmt.Sprintf("lost: %s conn on node %d: last seq %d, topic at %d", s.Topic, c.Node, s.Last, final))
			}
			for _, g := range s.GapSamples {
				sample("lost: gap " + g)
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
	byUser := map[string][]*client.WSClient{}
	for _, c := range r.clients {
		if c.Sess != nil {
			byUser[c.Sess.UserID] = append(byUser[c.Sess.UserID], c)
		}
	}
	for _, bk := range r.books.All() {
		for _, c := range append(byUser[bk.Instructor], byUser[bk.Student]...) {
			got := c.Seen[bk.Id]
			want := uint8(measure.PushCreated)
			if bk.Cancelled {
				want |= measure.PushCancelled
			}
			d.BookingPushExpected += int64(bits.OnesCount8(want))
			d.BookingPushReceived += int64(bits.OnesCount8(got & want))
			if miss := want &^ got; miss != 0 {
				d.BookingPushLost += int64(bits.OnesCount8(miss))
				sample(fmt.Sprintf("lost: booking %s: %s connection on node %d missed push flags %b", bk.Id, c.Role, c.Node, miss))
			}
			if !bk.Cancelled && !bk.CancelLost && got&measure.PushCancelled != 0 {
				d.BookingPushUnwanted++
			}
		}
	}

	// Pushes about bookings this run never got a 201 for: a second booking
	// made by an idempotent replay would show up here. A POST that timed
	// out may have created one too, so they only fail a run without errors.
	all := map[string]bool{}
	for _, bk := range r.books.All() {
		all[bk.Id] = true
	}
	for _, c := range r.clients {
		for id := range c.Seen {
			if !all[id] {
				d.BookingPushUnknown++
				sample("unknown: push for booking " + id + " that no POST of this run returned")
			}
		}
	}

	var receivers int64
	for _, t := range r.tracks {
		ev, complete, rc := t.Fanout(st)
		res.Fanout.Events += ev
		res.Fanout.CompleteEvents += complete
		receivers += rc
	}
	if res.Fanout.Events > 0 {
		res.Fanout.AvgReceivers = float64(receivers) / float64(res.Fanout.Events)
	}

	res.Judge()
	return res
}
