package main

import (
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
