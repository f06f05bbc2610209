package hub

import (
	"context"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// FrameBudget is one connection's allowance of client frames: JSON frames
// and WebSocket ping control frames draw from the same bucket, so a flood of
// pings (which the WebSocket library answers by itself) is closed with 4029
// like any other flood. The burst covers subscribing to every topic a
// connection may hold at once, on top of twice the steady rate.
type FrameBudget struct {
	lim    *rate.Limiter
	client atomic.Pointer[Client] // set by Serve; pings before that are only counted
}

// NewFrameBudget returns a budget for one connection; hand it to Serve in
// Identity.Frames and its OnPing to the WebSocket accept options.
func (h *Hub) NewFrameBudget() *FrameBudget {
	burst := int(2*h.opts.MessagesPerSecond) + h.opts.MaxSubscriptions
	return &FrameBudget{lim: rate.NewLimiter(rate.Limit(h.opts.MessagesPerSecond), burst)}
}

// OnPing counts a ping control frame; over budget it closes the connection
// with 4029 and tells the library not to answer.
func (b *FrameBudget) OnPing(context.Context, []byte) bool {
	if b.lim.Allow() {
		return true
	}
	if c := b.client.Load(); c != nil {
		c.closeWith(StatusTooManyFrames, "too many messages")
	}
	return false
}

// OnPong notes a pong the WebSocket library read itself (one between the
// fragments of a message; the hub reads the others): it counts toward the
// frame limit like a ping, and answers the keepalive.
func (b *FrameBudget) OnPong(context.Context, []byte) {
	c := b.client.Load()
	if !b.lim.Allow() {
		if c != nil {
			c.closeWith(StatusTooManyFrames, "too many messages")
		}
		return
	}
	if c != nil && c.awaitPong.CompareAndSwap(true, false) {
		c.ping.Reset(c.h.opts.PingInterval)
	}
}
