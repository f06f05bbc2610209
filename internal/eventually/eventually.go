// Package eventually is the one polling helper of the tests: wait, with a
// deadline, for a condition that another goroutine, node or process makes
// true. A test that must show that something does NOT happen cannot use it;
// such a test sleeps for a stated reason instead.
package eventually

import (
	"testing"
	"time"
)

// Interval is how often the condition is checked.
const Interval = 10 * time.Millisecond

// True polls cond every Interval until it returns true, and fails tb
// (Fatalf, so call it from the test's goroutine) naming what it waited for
// if timeout passes first. cond is always checked once more after the
// deadline, so a slow machine that makes it true at the last moment passes.
func True(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Within(timeout, cond) {
		tb.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// Within polls cond like True and reports whether it became true before
// timeout, for callers that record the outcome instead of failing.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(Interval)
	}
}
