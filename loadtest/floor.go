package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// FloorStats is the fan-out syscall floor (floor_linux.go) and, in a fanout
// run, the hub's figures as a ratio of it.
type FloorStats struct {
	Requested                  int     `json:"sockets_requested"`
	Sockets                    int     `json:"sockets"`
	FrameBytes                 int     `json:"frame_bytes"`
	Rounds                     int     `json:"rounds"`
	LastP50Seconds             float64 `json:"last_receiver_p50_seconds"`
	LastMaxSeconds             float64 `json:"last_receiver_max_seconds"`
	WriterCPUPerDeliveryMicros float64 `json:"writer_cpu_per_delivery_us"`
	ReaderCPUPerDeliveryMicros float64 `json:"reader_cpu_per_delivery_us"`
	Note                       string  `json:"note,omitempty"`

	// The hub's side, filled in by a fanout run: last receiver p50 after
	// commit (generator clock) and the watching node's CPU per delivery
	// (all its CPU over the run: an upper bound).
	HubLastP50Seconds       float64 `json:"hub_last_receiver_p50_seconds,omitempty"`
	HubCPUPerDeliveryMicros float64 `json:"hub_cpu_per_delivery_us,omitempty"`
	LatencyRatio            float64 `json:"latency_ratio,omitempty"`
	CPURatio                float64 `json:"cpu_ratio,omitempty"`
	HubWatchers             int     `json:"hub_watchers,omitempty"`
}

// floorDefaultSockets fits two descriptors per pair under a 20,000
// open-files limit with room to spare.
const floorDefaultSockets = 9900

func (f *FloorStats) lines() []string {
	out := []string{fmt.Sprintf("floor        %d loopback sockets (one write(2) of %d B each, epoll reader, same process), %d rounds: last receiver p50 %s max %s; writer CPU %.2f µs and reader %.2f µs per delivery",
		f.Sockets, f.FrameBytes, f.Rounds, fmtDur(time.Duration(f.LastP50Seconds*1e9)), fmtDur(time.Duration(f.LastMaxSeconds*1e9)),
		f.WriterCPUPerDeliveryMicros, f.ReaderCPUPerDeliveryMicros)}
	if f.Note != "" {
		out = append(out, "             "+f.Note)
	}
	if f.HubLastP50Seconds > 0 {
		cpu := "n/a (no /metrics: pass -monitoring-key)"
		if f.HubCPUPerDeliveryMicros > 0 {
			cpu = fmt.Sprintf("%.2f µs = %.2f× the floor's writer", f.HubCPUPerDeliveryMicros, f.CPURatio)
		}
		out = append(out, fmt.Sprintf("hub vs floor %d watchers: last receiver p50 %s = %.2f× the floor; node CPU per delivery %s",
			f.HubWatchers, fmtDur(time.Duration(f.HubLastP50Seconds*1e9)), f.LatencyRatio, cpu))
	}
	return out
}

// compareHub fills in the hub's side from a finished fanout result.
func (f *FloorStats) compareHub(res *Result) {
	f.HubWatchers = res.Connections.Open
	if h := res.Latency[hFanoutLast]; h != nil && h.Count() > 0 {
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

// floorMain is `loadtest floor`: the floor alone, no server needed.
func floorMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("sockets", floorDefaultSockets, "loopback socket pairs (two open files each)")
	rounds := fs.Int("rounds", 20, "fan-outs measured")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := measureFloor(*n, *rounds)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	for _, l := range f.lines() {
		fmt.Fprintln(stdout, l)
	}
	return 0
}
