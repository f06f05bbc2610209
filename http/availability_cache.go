package http

import (
	"context"
	"instainstru/market"
	"sync"
	"sync/atomic"
	"time"
)

// availabilityCache keeps this node's rendered GET availability responses,
// keyed by instructor and range and tagged with the market.AvailabilityStamp
// (timezone, topic seq) of the snapshot they were read in.
//
// Exactness: a cached body is served only after a stamp probe whose
// statement was SENT AFTER the request arrived returned the body's stamp.
// Every committed change to an instructor's windows or bookings bumps the
// topic seq in the same transaction, and seq never decreases, so an equal
// stamp means the database holds, at the probe's snapshot, exactly the data
// the body was rendered from: the response (body and its seq) is what an
// uncached read at the probe's snapshot returns. Staleness bound: zero — a
// GET that arrives after a change committed always includes it, whichever
// node committed it, and its seq stays the exact resume point.
//
// Cost: one primary-key statement per hit instead of a REPEATABLE READ
// transaction (BEGIN, 4 statements, COMMIT), and no JSON encoding. Requests
// for one instructor that arrive while a probe is in flight share the next
// probe (at most one in flight and one queued per instructor), so a popular
// calendar costs the database about one statement per round trip however
// many clients read it.
type availabilityCache struct {
	stamps   stamper
	maxBytes int

	mu      sync.Mutex
	entries map[string]*cachedAvailability // instructor|from|to
	bytes   int
	probes  map[string]*probeSlot // instructor → probes in flight

	hits, misses atomic.Int64 // served from memory / read from the database
}

// stamper reads an instructor's current availability stamp.
type stamper interface {
	AvailabilityStamp(ctx context.Context, instructorID string) (market.AvailabilityStamp, error)
}

type cachedAvailability struct {
	stamp market.AvailabilityStamp
	body  []byte // rendered JSON, shared read-only by every response
}

// probeSlot: running's statement may already be sent, so a request that
// arrives now must not take its answer; queued is sent only after running
// finishes, so any request may join it.
type probeSlot struct {
	running, queued *stampProbe
}

type stampProbe struct {
	done  chan struct{}
	stamp market.AvailabilityStamp
	err   error
}

// stampTimeout bounds one probe, which no single client can cancel (it
// answers everyone who joined it).
const stampTimeout = 10 * time.Second

func newAvailabilityCache(s stamper, maxBytes int) *availabilityCache {
	return &availabilityCache{stamps: s, maxBytes: maxBytes,
		entries: map[string]*cachedAvailability{}, probes: map[string]*probeSlot{}}
}

func availabilityKey(instructorID, from, to string) string {
	return instructorID + "|" + from + "|" + to
}

// get returns the cached body for the range if the instructor's current
// stamp (probed after this call began) matches it; nil, nil when there is
// nothing cached or it is outdated. A probe error (ENOTFOUND for an
// instructor who is gone, EUNAVAILABLE…) is returned as is.
func (c *availabilityCache) get(ctx context.Context, instructorID, from, to string) ([]byte, error) {
	key := availabilityKey(instructorID, from, to)
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
		return nil, nil // a miss needs the full read anyway: no probe
	}
	st, err := c.currentStamp(ctx, instructorID)
	if err != nil {
		return nil, err
	}
	if st != e.stamp {
		c.misses.Add(1)
		return nil, nil
	}
	c.hits.Add(1)
	return e.body, nil
}

// put stores body rendered from a read with stamp st, unless a newer one is
// already there. Entries past maxBytes are evicted in map order (random).
func (c *availabilityCache) put(instructorID, from, to string, st market.AvailabilityStamp, body []byte) {
	if len(body) > c.maxBytes {
		return
	}
	key := availabilityKey(instructorID, from, to)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		if old.stamp.Seq > st.Seq {
			return
		}
		c.bytes -= len(old.body)
		delete(c.entries, key)
	}
	for k, old := range c.entries {
		if c.bytes+len(body) <= c.maxBytes {
			break
		}
		c.bytes -= len(old.body)
		delete(c.entries, k)
	}
	c.entries[key] = &cachedAvailability{stamp: st, body: body}
	c.bytes += len(body)
}

// currentStamp returns a stamp read by a statement sent after the call
// began, sharing that statement with concurrent callers for the instructor.
func (c *availabilityCache) currentStamp(ctx context.Context, instructorID string) (market.AvailabilityStamp, error) {
	p := c.join(ctx, instructorID)
	select {
	case <-p.done:
		return p.stamp, p.err
	case <-ctx.Done():
		return market.AvailabilityStamp{}, ctx.Err()
	}
}

// join returns the probe whose answer the caller may take: a new one when
// none is in flight, else the one queued behind it (never the running one,
// whose statement may predate the caller).
func (c *availabilityCache) join(ctx context.Context, instructorID string) *stampProbe {
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := c.probes[instructorID]
	if slot == nil {
		slot = &probeSlot{}
		c.probes[instructorID] = slot
	}
	switch {
	case slot.running == nil:
		slot.running = &stampProbe{done: make(chan struct{})}
		go c.probe(ctx, instructorID, slot, slot.running, nil)
		return slot.running
	case slot.queued == nil:
		slot.queued = &stampProbe{done: make(chan struct{})}
		go c.probe(ctx, instructorID, slot, slot.queued, slot.running.done)
	}
	return slot.queued
}

// probe sends p's statement once after has closed (the previous probe is
// done and has promoted p to running), then promotes the queued one.
func (c *availabilityCache) probe(ctx context.Context, instructorID string, slot *probeSlot, p *stampProbe, after <-chan struct{}) {
	if after != nil {
		<-after
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stampTimeout)
	p.stamp, p.err = c.stamps.AvailabilityStamp(qctx, instructorID)
	cancel()
	c.mu.Lock()
	slot.running, slot.queued = slot.queued, nil
	if slot.running == nil {
		delete(c.probes, instructorID)
	}
	c.mu.Unlock()
	close(p.done)
}
