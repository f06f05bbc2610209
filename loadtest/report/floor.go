package report

import (
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
)

// CompareFloor fills in f's hub side from a finished fanout result.
func CompareFloor(f *floor.Stats, res *Result) {
	f.HubWatchers = res.Connections.Open
	if h := res.Latency[measure.HFanoutLast]; h != nil && h.Count() > 0 {
		f.HubLastP50Seconds = h.Quantile(0.5).Seconds()
		if f.LastP50Seconds > 0 {
			f.LatencyRatio = f.HubLastP50Seconds / f.LastP50Seconds
		}
	}
	watch := 0
	if len(res.Config.WatchOn) > 0 {
		watch = res.Config.WatchOn[0]
	}
	if watch < len(res.Server) {
		if sv := res.Server[watch]; sv.Deliveries > 0 && sv.CPUSeconds > 0 {
			f.HubCPUPerDeliveryMicros = sv.CPUSeconds * 1e6 / sv.Deliveries
			if f.WriterCPUPerDeliveryMicros > 0 {
				f.CPURatio = f.HubCPUPerDeliveryMicros / f.WriterCPUPerDeliveryMicros
			}
		}
	}
}
