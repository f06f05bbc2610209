package measure

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
			s := &Subscription{Topic: "t", HaveLast: true, Last: c.start}
			var fresh int64
			for _, q := range c.seqs {
				if s.Accept(q) {
					fresh++
				}
			}
			if s.Gaps != c.gaps || s.Dups != c.dups || fresh != c.fresh || s.Last != c.last {
				t.Fatalf("gaps %d dups %d fresh %d last %d", s.Gaps, s.Dups, fresh, s.Last)
			}
		})
	}
}

func TestTopicFanoutFeedsCompleteEventsOnly(t *testing.T) {
	st := NewStats()
	tr := NewTopicTrack("i", 0)
	a := &Subscription{Acked: true, AckSeq: 0}
	b := &Subscription{Acked: true, AckSeq: 1}
	tr.AddSub(a)
	tr.AddSub(b)
	ts := []byte("2026-01-01T00:00:00.000000Z")
	commit, _ := ParseTS(ts)
	tr.Received(1, ts, commit.Add(3*time.Millisecond)) // only a wants seq 1
	tr.Received(2, ts, commit.Add(2*time.Millisecond))
	tr.Received(2, ts, commit.Add(9*time.Millisecond))
	tr.Received(3, ts, commit.Add(time.Millisecond)) // b never gets seq 3
	events, complete, receivers := tr.Fanout(st)
	if events != 3 || complete != 2 || receivers != 4 {
		t.Fatalf("events %d complete %d receivers %d", events, complete, receivers)
	}
	if got := st.Hist[HFanoutLast].Max(); got != 9*time.Millisecond {
		t.Fatalf("last delivery max %v, want 9ms", got)
	}
	if got := st.Hist[HFanoutSpread].Max(); got != 7*time.Millisecond {
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
	if v, ok := SumMetric(body, "process_resident_memory_bytes"); !ok || v != 12345000 {
		t.Errorf("rss = %v %v", v, ok)
	}
	if v, ok := SumMetric(body, "instainstru_ws_connections"); !ok || v != 15 {
		t.Errorf("connections = %v %v", v, ok)
	}
	if _, ok := SumMetric(body, "absent"); ok {
		t.Error("absent metric found")
	}
}
