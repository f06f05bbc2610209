package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"instainstru/market"
)

// MemoryBroker is the single-node broker: Publish hands the event straight
// to this process's handler. It is a real implementation (used by `make
// run` without Redis and by tests), not a mock.
type MemoryBroker struct {
	mu     sync.RWMutex
	h      Handler
	topics map[string]bool
}

// NewMemoryBroker returns an in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{topics: map[string]bool{}}
}

// Publish delivers ev synchronously if this node watches its topic.
func (b *MemoryBroker) Publish(ctx context.Context, ev market.Event) error {
	b.mu.RLock()
	h, ok := b.h, b.topics[ev.Topic]
	b.mu.RUnlock()
	if ok && h != nil {
		h.Event(ev)
	}
	return nil
}

// Subscribe marks topic as watched. In one process nothing can be missed
// between commit and delivery, so Subscribed is never signalled.
func (b *MemoryBroker) Subscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	b.topics[topic] = true
	b.mu.Unlock()
	return nil
}

// Unsubscribe forgets topic.
func (b *MemoryBroker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	delete(b.topics, topic)
	b.mu.Unlock()
	return nil
}

// Run installs h and blocks until ctx ends.
func (b *MemoryBroker) Run(ctx context.Context, h Handler) error {
	b.mu.Lock()
	b.h = h
	b.mu.Unlock()
	<-ctx.Done()
	return nil
}

// PublishEphemeral delivers frame synchronously if this node watches topic
// (the contract is EphemeralPublisher's).
func (b *MemoryBroker) PublishEphemeral(ctx context.Context, topic string, frame []byte) error {
	if !json.Valid(frame) {
		return fmt.Errorf("ephemeral frame for %s is not JSON", topic)
	}
	b.mu.RLock()
	h, ok := b.h, b.topics[topic]
	b.mu.RUnlock()
	if ok && h != nil {
		h.Ephemeral(topic, frame)
	}
	return nil
}
