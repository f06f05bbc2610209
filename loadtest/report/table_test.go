package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
)

// TestTableShowsEverySection renders a load result and an idle one and
// checks each section of the table appears once, in order.
func TestTableShowsEverySection(t *testing.T) {
	h := &measure.Histogram{}
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	res := &Result{Scenario: "fanout", RunID: "r1", Nodes: []string{"http://a", "http://b"}, LoadSecs: 3, DrainSecs: 1.5,
		Warnings: []string{"w1"}, Latency: map[string]*measure.Histogram{measure.HFanoutLast: h, measure.HBookingPost: h},
		Errors: map[string]int64{"e1": 2}, Notes: map[string]int64{"n1": 3},
		Targets:  []TargetResult{{Name: "x", Value: "1", Limit: "2", Pass: true}, {Name: "y", Value: "3", Limit: "2"}},
		Failures: []string{"lost 1"}, Floor: &floor.Stats{Sockets: 10, Rounds: 2},
		CPU: CPUStats{WallSecs: 4, GeneratorSecs: 1}, Server: []ServerStats{{URL: "http://a", CPUSeconds: 2, EmailsSent: 3}}}
	res.Connections = ConnStats{Open: 3, Requested: 4, ByNode: []int{1, 2}}
	res.Bookings = BookingStats{TargetRate: 5, Sent: 9}
	res.Delivery = DeliveryStats{Subscriptions: 7, Samples: []string{"s1"}}
	var b bytes.Buffer
	res.WriteTable(&b)
	idle := &Result{Scenario: "idle-conns", Pass: true, Idle: &IdleStats{Connections: 5, Procs: 2, Nodes: []IdleNode{{URL: "http://a", Connections: 5, RSSAfter: 1 << 20}}},
		Latency: map[string]*measure.Histogram{measure.HConnect: h}}
	idle.WriteTable(&b)
	out := b.String()
	at := 0
	for _, want := range []string{"scenario fanout  run r1  nodes http://a, http://b", "warning: w1", "connections  3 open of 4",
		"delivery     7 subscriptions", "             s1", "fan-out      0 events", "floor", "POST /bookings (from intended start)",
		"cpu          over 4.0s", "server       http://a", "errors by kind", "  e1 ", "notes (not failures)", "  n1 ",
		"FAILED: lost 1", "scenario idle-conns", "idle         5 connections over 2 process(es)", "http://a: 5 conns", "WebSocket connect"} {
		i := strings.Index(out[at:], want)
		if i < 0 {
			t.Fatalf("table lacks %q after byte %d:\n%s", want, at, out)
		}
		at += i + len(want)
	}
	if strings.Count(out, "MISS") != 1 || strings.Count(out, "result FAIL") != 1 || strings.Count(out, "result PASS") != 1 {
		t.Errorf("pass/fail marks wrong:\n%s", out)
	}
}
