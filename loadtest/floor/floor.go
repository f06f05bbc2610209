package floor

import (
	"fmt"
	"instainstru/loadtest/measure"
	"time"
)

// Stats is the fan-out syscall floor (floor_linux.go) and, in a fanout
// run, the hub's figures as a ratio of it.
type Stats struct {
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

	// Filled in only by `loadtest floor -mode ...`, so the fanout
	// scenario's JSON is unchanged. ProcessCPU is the whole process
	// (RUSAGE_SELF) over each round less the reader thread's share: the
	// writer plus any io-wq workers io_uring hands sends to (which the
	// writer thread's own figure cannot see) plus the Go runtime, an upper
	// bound on the writer side.
	Mode                        string  `json:"mode,omitempty"`
	ProcessCPUPerDeliveryMicros float64 `json:"process_cpu_per_delivery_us,omitempty"`
	WriterSyscallsPerRound      float64 `json:"writer_syscalls_per_round,omitempty"`
	Uring                       string  `json:"uring,omitempty"`        // ring size and setup flags
	IOWQWorkers                 int     `json:"iowq_workers,omitempty"` // iou-wrk threads alive after the last round
}

// Options pick the floor's writer. The zero value is the write(2)
// floor that the fanout scenario compares the hub with.
type Options struct {
	Mode         string // "" (write, classic output), "write", or "uring"
	UringEntries int    // uring: submission ring size, the sends per io_uring_enter
	UringFlags   string // uring: ring setup flags, see uringSetupFlags
}

// Measure is the write(2) floor (MeasureMode has the rest).
func Measure(n, rounds int) (*Stats, error) {
	return MeasureMode(n, rounds, Options{})
}

// DefaultSockets fits two descriptors per pair under a 20,000
// open-files limit with room to spare.
const DefaultSockets = 9900

func (f *Stats) Lines() []string {
	how := fmt.Sprintf("one write(2) of %d B each", f.FrameBytes)
	if f.Mode == "uring" {
		how = fmt.Sprintf("one io_uring send of %d B each, %s", f.FrameBytes, f.Uring)
	}
	out := []string{fmt.Sprintf("floor        %d loopback sockets (%s, epoll reader, same process), %d rounds: last receiver p50 %s max %s; writer CPU %.2f µs and reader %.2f µs per delivery",
		f.Sockets, how, f.Rounds, measure.FmtDur(time.Duration(f.LastP50Seconds*1e9)), measure.FmtDur(time.Duration(f.LastMaxSeconds*1e9)),
		f.WriterCPUPerDeliveryMicros, f.ReaderCPUPerDeliveryMicros)}
	if f.Note != "" {
		out = append(out, "             "+f.Note)
	}
	if f.Mode != "" {
		l := fmt.Sprintf("             process CPU %.2f µs per delivery (RUSAGE_SELF over each round less the reader thread); %.0f writer syscalls per round",
			f.ProcessCPUPerDeliveryMicros, f.WriterSyscallsPerRound)
		if f.Mode == "uring" {
			l += fmt.Sprintf("; %d io-wq worker threads after the last round", f.IOWQWorkers)
		}
		out = append(out, l)
	}
	if f.HubLastP50Seconds > 0 {
		cpu := "n/a (no /metrics: pass -monitoring-key)"
		if f.HubCPUPerDeliveryMicros > 0 {
			cpu = fmt.Sprintf("%.2f µs = %.2f× the floor's writer", f.HubCPUPerDeliveryMicros, f.CPURatio)
		}
		out = append(out, fmt.Sprintf("hub vs floor %d watchers: last receiver p50 %s = %.2f× the floor; node CPU per delivery %s",
			f.HubWatchers, measure.FmtDur(time.Duration(f.HubLastP50Seconds*1e9)), f.LatencyRatio, cpu))
	}
	return out
}
