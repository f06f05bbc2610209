package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSubscriptionAcceptCountsGapsAndDuplicates(t *testing.T) {
	cases := []struct {
		name              string
		start             int64
		seqs              []int64
		gaps, dups, fresh int64
		last              int64
	}{
		{"in order", 10, []int64{11, 12, 13}, 0, 0, 3, 13},
		{"gap", 10, []int64{11, 14}, 2, 0, 2, 14},
		{"duplicate", 10, []int64{11, 11, 12}, 0, 1, 2, 12},
		{"reorder counts as duplicate after the jump", 10, []int64{12, 11}, 1, 1, 1, 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &subscription{topic: "t", haveLast: true, last: c.start}
			var fresh int64
			for _, q := range c.seqs {
				if s.accept(q) {
					fresh++
				}
			}
			if s.gaps != c.gaps || s.dups != c.dups || fresh != c.fresh || s.last != c.last {
				t.Fatalf("gaps %d dups %d fresh %d last %d", s.gaps, s.dups, fresh, s.last)
			}
		})
	}
}

func TestTopicFanoutFeedsCompleteEventsOnly(t *testing.T) {
	st := newStats()
	tr := newTopicTrack("i", 0)
	a := &subscription{acked: true, ackSeq: 0}
	b := &subscription{acked: true, ackSeq: 1}
	tr.addSub(a)
	tr.addSub(b)
	ts := []byte("2026-01-01T00:00:00.000000Z")
	commit, _ := parseTS(ts)
	tr.received(1, ts, commit.Add(3*time.Millisecond)) // only a wants seq 1
	tr.received(2, ts, commit.Add(2*time.Millisecond))
	tr.received(2, ts, commit.Add(9*time.Millisecond))
	tr.received(3, ts, commit.Add(time.Millisecond)) // b never gets seq 3
	events, complete, receivers := tr.fanout(st)
	if events != 3 || complete != 2 || receivers != 4 {
		t.Fatalf("events %d complete %d receivers %d", events, complete, receivers)
	}
	if got := st.hist[hFanoutLast].Max(); got != 9*time.Millisecond {
		t.Fatalf("last delivery max %v, want 9ms", got)
	}
	if got := st.hist[hFanoutSpread].Max(); got != 7*time.Millisecond {
		t.Fatalf("spread max %v, want 7ms", got)
	}
}

func TestSumMetricAddsEveryLabelSetOfExactlyThatName(t *testing.T) {
	body := []byte(`# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.2345e+07
process_resident_memory_bytes_extra 99
instainstru_ws_connections{auth="anonymous"} 10
instainstru_ws_connections{auth="token"} 5
instainstru_ws_connections_total 1
`)
	if v, ok := sumMetric(body, "process_resident_memory_bytes"); !ok || v != 12345000 {
		t.Errorf("rss = %v %v", v, ok)
	}
	if v, ok := sumMetric(body, "instainstru_ws_connections"); !ok || v != 15 {
		t.Errorf("connections = %v %v", v, ok)
	}
	if _, ok := sumMetric(body, "absent"); ok {
		t.Error("absent metric found")
	}
}

func TestEmailFromNameMatchesSeededAccounts(t *testing.T) {
	for name, want := range map[string]string{
		"Sarah Chen":        "sarah.chen@example.com",
		"James O'Brien":     "james.obrien@example.com",
		"Michael Rodriguez": "michael.rodriguez@example.com",
	} {
		if got := emailFromName(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestPresetsAreValidAndFanoutSplitsNodes(t *testing.T) {
	for _, p := range presets {
		c, err := NewConfig(p.Name, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	c, _ := NewConfig("fanout", []string{"http://a", "http://b"})
	if c.WatchOn[0] != 0 || c.BookOn[0] != 1 || c.Watchers != 10000 {
		t.Errorf("fanout: watch %v book %v watchers %d", c.WatchOn, c.BookOn, c.Watchers)
	}
	if _, err := NewConfig("nope", nil); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestRealMainExplainsFlagsAndRejectsBadOnes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := realMain([]string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	for _, want := range []string{"booking-storm", "fanout", "idle-conns", "smoke", "-rate", "open-loop", "Exit status"} {
		if !strings.Contains(errb.String(), want) && !strings.Contains(strings.ToLower(errb.String()), strings.ToLower(want)) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	cases := [][]string{
		{"-scenario", "nope"},
		{"-scenario", "smoke", "-signed-in", "2"},
		{"-scenario", "smoke", "-watch-nodes", "5"},
		{"-scenario", "smoke", "-urls", "ftp://x"},
		{"extra-arg"},
	}
	for _, args := range cases {
		errb.Reset()
		if code := realMain(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func TestIdleRefusesMoreSocketsThanFitWithAClearMessage(t *testing.T) {
	c, _ := NewConfig("idle-conns", []string{"http://127.0.0.1:1"})
	c.Watchers, c.Procs = 1_000_000, 1
	_, err := Run(t.Context(), c, nil)
	if err == nil || !strings.Contains(err.Error(), "-procs") || !strings.Contains(err.Error(), "open-files") {
		t.Fatalf("got %v, want a message naming the open-files limit and -procs", err)
	}
}

func TestResultJudgeFailsOnLossDuplicationAndErrors(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Result)
		pass bool
	}{
		{"clean", func(*Result) {}, true},
		{"lost", func(r *Result) { r.Delivery.Lost = 1 }, false},
		{"dup", func(r *Result) { r.Delivery.Duplicated = 1 }, false},
		{"booking push lost", func(r *Result) { r.Delivery.BookingPushLost = 1 }, false},
		{"error", func(r *Result) { r.Errors["booking_http_500"] = 1 }, false},
		{"409s are normal", func(r *Result) { r.Bookings.Conflicts = 40; r.Notes["booking_409_slot_unavailable"] = 40 }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Result{Scenario: "smoke", Errors: map[string]int64{}, Notes: map[string]int64{}, Latency: newStats().hist}
			r.Bookings.Created, r.Delivery.ReceivedEvents = 1, 1
			c.mod(r)
			r.judge()
			if r.Pass != c.pass {
				t.Fatalf("pass %v, want %v (failures %v)", r.Pass, c.pass, r.Failures)
			}
		})
	}
}

func TestBucketQuantileInterpolatesAndFlagsOverflow(t *testing.T) {
	inf := math.Inf(1)
	bk := map[float64]float64{0.001: 50, 0.01: 90, 0.1: 100, inf: 100}
	if v, beyond := bucketQuantile(bk, 0.5); beyond || math.Abs(v-0.001) > 1e-9 {
		t.Errorf("p50 = %v %v, want 0.001", v, beyond)
	}
	if v, beyond := bucketQuantile(bk, 0.7); beyond || math.Abs(v-0.0055) > 1e-9 {
		t.Errorf("p70 = %v %v, want 0.0055 (linear inside the bucket)", v, beyond)
	}
	over := map[float64]float64{10: 10, inf: 100}
	if v, beyond := bucketQuantile(over, 0.99); !beyond || v != 10 {
		t.Errorf("p99 past the last bucket = %v %v, want 10 and beyond", v, beyond)
	}
	if v, beyond := bucketQuantile(map[float64]float64{}, 0.5); v != 0 || beyond {
		t.Errorf("empty = %v %v", v, beyond)
	}
}
