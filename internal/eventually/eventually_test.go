package eventually

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestWithinSeesAConditionThatBecomesTrue(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			time.Sleep(Interval)
			n.Add(1)
		}
	}()
	if !Within(5*time.Second, func() bool { return n.Load() == 3 }) {
		t.Fatal("Within gave up on a condition that became true")
	}
}

func TestWithinGivesUpAfterTheTimeoutButChecksOnceMore(t *testing.T) {
	calls := 0
	start := time.Now()
	if Within(3*Interval, func() bool { calls++; return false }) {
		t.Fatal("Within reported a condition that never held")
	}
	if time.Since(start) < 3*Interval || calls < 2 {
		t.Fatalf("gave up after %v and %d checks", time.Since(start), calls)
	}
}
