package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestScheduleQueueGivesOneTurnPerKeyAndForgetsIdleKeys(t *testing.T) {
	var q scheduleQueue
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			key := "a"
			if i%2 == 1 {
				key = "b"
			}
			release, err := q.acquire(context.Background(), key)
			if err != nil {
				t.Error(err)
				return
			}
			if key == "a" {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(time.Millisecond) // hold the lock long enough for a second holder to show, if the lock let one in
				inside.Add(-1)
			}
			release()
		}(i)
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("%d holders of one key at once, want 1", maxInside.Load())
	}
	if len(q.slots) != 0 {
		t.Fatalf("%d idle keys kept", len(q.slots))
	}
	// A waiter gives up with its context.
	release, _ := q.acquire(context.Background(), "c")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.acquire(ctx, "c"); err == nil {
		t.Fatal("acquired a held key")
	}
	release()
	if len(q.slots) != 0 {
		t.Fatal("key kept after its last holder left")
	}
}
