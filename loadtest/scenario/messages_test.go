package scenario

import (
	"bytes"
	"context"
	"testing"
	"time"

	"instainstru/loadtest/config"
	"instainstru/loadtest/measure"
)

// testMessages runs a small messages scenario: every message sent reaches
// the other party's socket on the other node and the sender's own, once.
func testMessages(t *testing.T, cl *cluster) {
	cfg, err := config.NewConfig("messages", cl.urls)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Students, cfg.Instructors, cfg.Conversations = 3, 2, 6
	cfg.Rate, cfg.Duration, cfg.Drain = 10, 2*time.Second, 10*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, testLog{t})
	if err != nil {
		cl.dumpLogs()
		t.Fatalf("run: %v", err)
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	t.Log(table.String())
	d := res.Delivery
	if !res.Pass || res.Messages == nil || res.Messages.Sent != 20 || d.ExpectedEvents != 40 || d.ReceivedEvents != 40 || d.Lost+d.Duplicated != 0 {
		cl.dumpLogs()
		t.Fatalf("messages run: pass %v, %+v, delivery %+v, failures %v", res.Pass, res.Messages, d, res.Failures)
	}
	if n := res.Latency[measure.HMessageDeliver].Count(); n != 20 {
		t.Fatalf("send → recipient measured for %d messages, want 20", n)
	}
}
