package store_test

import (
	"context"
	"sync"

	"instainstru/market"
)

// recorder is a store.Publisher that keeps what writes published, the way
// a node's fast path receives it (after commit, nothing on failure).
type recorder struct {
	mu  sync.Mutex
	evs []market.Event
}

func (r *recorder) PublishCommitted(_ context.Context, evs []market.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
}

// take returns what was published since the last take.
func (r *recorder) take() []market.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.evs
	r.evs = nil
	return evs
}
