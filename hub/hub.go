// Package hub is this node's registry of live WebSocket connections: user id
// → every connection of that user, topic → subscribers, with one writer
// goroutine and a bounded queue per connection.
package hub

import "context"

// Hub is this node's connection registry.
type Hub struct{}

// Shutdown closes every connection with 1012 (service restart).
func (h *Hub) Shutdown(ctx context.Context) {}
