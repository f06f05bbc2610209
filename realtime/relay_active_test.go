package realtime

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/internal/eventually"
	"instainstru/store/storetest"
)

// TestRelayActiveGaugeFollowsTheRelayLock: the node whose relay holds the
// lock reports instainstru_outbox_relay_active 1, the stand-by 0, and the
// stand-by reports 1 once it has taken over.
func TestRelayActiveGaugeFollowsTheRelayLock(t *testing.T) {
	db := storetest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(holder string) (*prometheus.Registry, context.CancelFunc, chan struct{}) {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		r := &Relay{Store: db, Broker: NewMemoryBroker(), Log: log, Metrics: m, Interval: 20 * time.Millisecond, Holder: holder}
		go func() { defer close(done); r.Run(ctx) }()
		return reg, cancel, done
	}
	active := func(reg *prometheus.Registry) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "instainstru_outbox_relay_active" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("instainstru_outbox_relay_active not registered")
		return -1
	}
	waitFor := func(what string, ok func() bool) { t.Helper(); eventually.True(t, 10*time.Second, what, ok) }
	m1, stop1, done1 := start("relay-1")
	waitFor("the first relay to take the lease", func() bool { return active(m1) == 1 })
	m2, stop2, done2 := start("relay-2")
	defer func() { stop2(); <-done2 }()
	time.Sleep(200 * time.Millisecond) // several ticks: the stand-by stays inactive
	if active(m2) != 0 {
		t.Fatalf("stand-by relay reports active while the first holds the lease")
	}
	stop1()
	<-done1
	if active(m1) != 0 {
		t.Fatalf("stopped relay still reports active")
	}
	waitFor("the stand-by to take over", func() bool { return active(m2) == 1 })
}
