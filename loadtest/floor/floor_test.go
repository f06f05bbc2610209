//go:build linux

package floor

import (
	"errors"
	"syscall"
	"testing"
)

func TestFloorDeliversOneFrameToEverySocketPerRound(t *testing.T) {
	f, err := Measure(200, 3)
	if err != nil {
		t.Fatal(err)
	}
	if f.Sockets != 200 || f.Rounds != 3 || f.FrameBytes != 180 || f.Note != "" {
		t.Fatalf("floor = %+v", f)
	}
	if f.LastP50Seconds <= 0 || f.LastMaxSeconds < f.LastP50Seconds || f.LastMaxSeconds > 5 {
		t.Fatalf("last receiver p50 %v max %v", f.LastP50Seconds, f.LastMaxSeconds)
	}
	if f.WriterCPUPerDeliveryMicros < 0 || f.ReaderCPUPerDeliveryMicros < 0 {
		t.Fatalf("negative CPU: %+v", f)
	}
}

func TestFloorUringDeliversOneFrameToEverySocketPerRound(t *testing.T) {
	// 64 entries: 200 sockets take four batches, so the ring wraps.
	f, err := MeasureMode(200, 3, Options{Mode: "uring", UringEntries: 64, UringFlags: "defer"})
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		t.Skipf("io_uring unavailable here: %v", err) // the reader checked every byte arrived when it did run
	}
	if err != nil {
		t.Fatal(err)
	}
	// The reader reports a round only once all 200 × 180 bytes of it have
	// been read, so three reported rounds are every byte delivered.
	if f.Sockets != 200 || f.Rounds != 3 || f.FrameBytes != 180 || f.Mode != "uring" || f.Note != "" {
		t.Fatalf("floor = %+v", f)
	}
	if f.LastP50Seconds <= 0 || f.LastMaxSeconds < f.LastP50Seconds || f.LastMaxSeconds > 5 {
		t.Fatalf("last receiver p50 %v max %v", f.LastP50Seconds, f.LastMaxSeconds)
	}
	if f.WriterCPUPerDeliveryMicros <= 0 || f.ReaderCPUPerDeliveryMicros <= 0 || f.ProcessCPUPerDeliveryMicros <= 0 {
		t.Fatalf("CPU figures not positive: %+v", f)
	}
	// Four submissions of up to 64 sends a round; a signal may add a call.
	if f.WriterSyscallsPerRound < 4 || f.WriterSyscallsPerRound > 8 {
		t.Fatalf("%v io_uring_enter calls per round, want about 4", f.WriterSyscallsPerRound)
	}
}
