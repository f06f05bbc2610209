package report

import (
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
	"testing"
	"time"
)

func TestFanoutResultIsComparedWithTheFloorAsRatios(t *testing.T) {
	f := &floor.Stats{LastP50Seconds: 0.050, WriterCPUPerDeliveryMicros: 5}
	last := &measure.Histogram{}
	for range 100 {
		last.Record(100 * time.Millisecond)
	}
	res := &Result{Latency: map[string]*measure.Histogram{measure.HFanoutLast: last},
		Server: []ServerStats{{CPUSeconds: 1, Deliveries: 100000}}}
	res.Connections.Open = 10000
	CompareFloor(f, res)
	if f.HubWatchers != 10000 || f.HubCPUPerDeliveryMicros != 10 || f.CPURatio != 2 {
		t.Fatalf("hub side = %+v", f)
	}
	if f.LatencyRatio < 1.9 || f.LatencyRatio > 2.1 {
		t.Fatalf("latency ratio %v, want about 2 (100 ms over 50 ms)", f.LatencyRatio)
	}
}
