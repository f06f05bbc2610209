package report

import (
	"fmt"
	"io"
	"strings"

	"instainstru/loadtest/measure"
)

// printer writes one line of the table.
type printer func(format string, a ...any)

// WriteTable prints the final human-readable report.
func (res *Result) WriteTable(w io.Writer) {
	p := printer(func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) })
	status := "PASS"
	if !res.Pass {
		status = "FAIL"
	}
	p("")
	p("scenario %s  run %s  nodes %s", res.Scenario, res.RunID, strings.Join(res.Nodes, ", "))
	p("load %.1fs  drain %.2fs  result %s", res.LoadSecs, res.DrainSecs, status)
	for _, wn := range res.Warnings {
		p("warning: %s", wn)
	}
	switch {
	case res.Messages != nil:
		res.tableMessages(p)
	case res.Idle == nil:
		res.tableLoad(p)
	default:
		res.tableIdle(p)
	}
	res.tableLatency(p)
	if cpu := res.CPU; cpu.WallSecs > 0 {
		p("")
		p("cpu          over %.1fs of load+drain: generator %.1fs (%.0f%% of a core)", cpu.WallSecs, cpu.GeneratorSecs, 100*cpu.GeneratorSecs/cpu.WallSecs)
		for _, sv := range res.Server {
			p("server       %s", sv.summary(cpu.WallSecs))
		}
	}
	tableCounts(p, "errors by kind", res.Errors)
	tableCounts(p, "notes (not failures)", res.Notes)
	p("")
	p("%-55s %12s %12s  %s", "target", "value", "limit", "")
	for _, t := range res.Targets {
		v := "pass"
		if !t.Pass {
			v = "MISS"
		}
		p("%-55s %12s %12s  %s", t.Name, t.Value, t.Limit, v)
	}
	for _, f := range res.Failures {
		p("FAILED: %s", f)
	}
	p("")
}

// tableLoad is a load run's connections, bookings, delivery and fan-out.
func (res *Result) tableLoad(p printer) {
	c := res.Connections
	p("")
	p("connections  %d open of %d (%d signed-in watchers, %d instructors), %d failed, by node %v", c.Open, c.Requested, c.SignedIn, c.Instructors, c.Failed, c.ByNode)
	p("             setup %.2fs = %.0f conn/s, reconnects %d", c.SetupSecs, c.PerSecond, c.Reconnects)
	b := res.Bookings
	p("bookings     target %.1f/s achieved %.1f/s: %d scheduled, %d sent, %d created, %d conflicts (409), %d shed (503), %d errors, %d chosen blind (view had no open slot), %d dropped",
		b.TargetRate, b.AchievedRate, b.Scheduled, b.Sent, b.Created, b.Conflicts, b.Shed, b.Errors, b.NoOpenSlot, b.Dropped)
	p("             cancels %d sent, %d ok, %d shed (503), %d errors; idempotent replays %d; GET availability %d (%d errors); cleanup cancelled %d",
		b.CancelsSent, b.Cancelled, b.CancelShed, b.CancelErrors, b.Replays, b.Gets, b.GetErrors, b.CleanupCancelled)
	d := res.Delivery
	p("delivery     %d subscriptions (%d refused): expected %d events, received %d, lost %d, duplicated %d, before-ack %d, resets %d (skipped %d)",
		d.Subscriptions, d.SubscribesRefused, d.ExpectedEvents, d.ReceivedEvents, d.Lost, d.Duplicated, d.BeforeAck, d.Resets, d.SkippedByReset)
	p("             booking pushes expected %d, received %d, lost %d, duplicated %d, unexpected %d, unknown booking %d; private seq gaps %d dups %d",
		d.BookingPushExpected, d.BookingPushReceived, d.BookingPushLost, d.BookingPushDup, d.BookingPushUnwanted, d.BookingPushUnknown, d.UserTopicGaps, d.UserTopicDups)
	for _, s := range d.Samples {
		p("             %s", s)
	}
	p("fan-out      %d events, %d complete, %.1f receivers per event", res.Fanout.Events, res.Fanout.CompleteEvents, res.Fanout.AvgReceivers)
	if res.Floor != nil {
		for _, l := range res.Floor.Lines() {
			p("%s", l)
		}
	}
}

// tableMessages is a messages run's load and reconciliation.
func (res *Result) tableMessages(p printer) {
	m, d := res.Messages, res.Delivery
	p("")
	p("messages     %d conversations between %d users: target %.1f/s achieved %.1f/s, %d sent, %d errors",
		m.Conversations, m.Users, m.TargetRate, m.AchievedRate, m.Sent, m.Errors)
	p("delivery     expected %d (recipient + sender's own socket), received %d, lost %d, duplicated %d",
		d.ExpectedEvents, d.ReceivedEvents, d.Lost, d.Duplicated)
	for _, s := range d.Samples {
		p("             %s", s)
	}
}

// tableIdle is an idle-conns run's memory per connection, by node.
func (res *Result) tableIdle(p printer) {
	id := res.Idle
	p("")
	p("idle         %d connections over %d process(es) (fd limit %d each), held %.1fs, %d dropped",
		id.Connections, id.Procs, id.FDLimit, id.HoldSecs, id.Dropped)
	for _, n := range id.Nodes {
		p("             %s: %d conns (server gauge %.0f), RSS %.1f → %.1f MiB = %.1f KiB per connection",
			n.URL, n.Connections, n.ServerConnsGauge, n.RSSBefore/(1<<20), n.RSSAfter/(1<<20), n.BytesPerConn/1024)
		p("             per connection: heap in use %.1f KiB, goroutine stacks %.1f KiB, %.2f goroutines",
			n.HeapPerConn/1024, n.StackPerConn/1024, n.GoroutinesPerConn)
	}
	p("             setup %.2fs = %.0f conn/s", res.Connections.SetupSecs, res.Connections.PerSecond)
}

// tableLatency is one line per latency histogram that has samples.
func (res *Result) tableLatency(p printer) {
	p("")
	p("%-40s %9s %9s %9s %9s %9s %9s", "latency", "count", "p50", "p90", "p99", "p99.9", "max")
	for _, row := range latencyRows {
		h := res.Latency[row.key]
		if h == nil || h.Count() == 0 {
			continue
		}
		p("%-40s %9d %9s %9s %9s %9s %9s", row.label, h.Count(), measure.FmtDur(h.Quantile(.5)), measure.FmtDur(h.Quantile(.9)),
			measure.FmtDur(h.Quantile(.99)), measure.FmtDur(h.Quantile(.999)), measure.FmtDur(h.Max()))
	}
}

// tableCounts lists counts by kind under a title; nothing when empty.
func tableCounts(p printer, title string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	p("")
	p("%s", title)
	for _, k := range sortedKeys(m) {
		p("  %-50s %d", k, m[k])
	}
}
