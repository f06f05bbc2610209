package hub

import (
	"context"
	"net"
	"sync"
	"time"
)

// writer is one of a few goroutines (one per P) that write queued frames
// to the connections assigned to it, instead of waking one goroutine per
// connection per event: a fan-out to 10,000 connections is a handful of
// wake-ups and one non-blocking write(2)/writev(2) per connection. A socket
// whose buffer is full never holds a writer up: what did not fit goes to a
// goroutine of that connection, which waits for the socket under the write
// deadline (and the bounded queue still turns a slow consumer into 4008).
type writer struct {
	idx   int
	mu    sync.Mutex // guards ready and stopped; taken once per fan-out batch
	ready []*Client
	wake  chan struct{} // capacity 1: a pending wake-up

	stopped bool

	// Owned by the loop.
	frames  []frame
	scratch *writeScratch
}

func newWriter(idx int) *writer {
	return &writer{idx: idx, wake: make(chan struct{}, 1), scratch: newWriteScratch()}
}

// post hands clients whose queues just became non-empty (or closed) to the
// loop; after the hub's context ends they get a goroutine each instead.
func (w *writer) post(cs ...*Client) {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		for _, c := range cs {
			go c.writeLoop(nil)
		}
		return
	}
	w.ready = append(w.ready, cs...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) run(ctx context.Context) {
	var batch []*Client
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			w.stopped = true
			rest := w.ready
			w.ready = nil
			w.mu.Unlock()
			for _, c := range rest {
				go c.writeLoop(nil)
			}
			return
		case <-w.wake:
		}
		w.mu.Lock()
		batch, w.ready = w.ready, batch[:0]
		w.mu.Unlock()
		for i, c := range batch {
			w.flush(c)
			batch[i] = nil
		}
	}
}

// flush writes everything c has queued without blocking. The loop owns c's
// output until the queue is empty, closed, or handed to a goroutine.
func (w *writer) flush(c *Client) {
	for {
		var closed, more bool
		w.frames, closed, more = c.q.drain(w.frames)
		if !more {
			return
		}
		if closed {
			go c.finish()
			return
		}
		if !c.wire.mu.TryLock() {
			// The library is writing (a close or pong): do not wait for it here.
			go c.writeLoop(copyFrames(w.frames))
			clear(w.frames)
			return
		}
		s := w.scratch
		s.bufs = s.bufs[:0]
		total := 0
		for _, f := range w.frames {
			s.bufs = append(s.bufs, f.data)
			total += len(f.data)
		}
		n, err := c.wire.raw.tryWrite(s)
		clear(s.bufs)
		switch {
		case err != nil:
			c.wire.mu.Unlock()
			clear(w.frames)
			c.closeWith(statusAbnormal, "")
			c.ws.CloseNow() //nolint:errcheck
			continue        // the next drain sees the queue closed
		case n < total:
			// The socket buffer is full: the rest, and the write lock (a
			// frame may be half out), go to a goroutine that may wait.
			rest := remaining(w.frames, n)
			go c.finishPartial(rest, copyFrames(w.frames))
			clear(w.frames)
			return
		}
		c.wire.mu.Unlock()
		c.h.metrics.delivered(w.frames, time.Now())
		clear(w.frames)
	}
}

// remaining is what is left of frames after n bytes went out.
func remaining(frames []frame, n int) net.Buffers {
	var out net.Buffers
	for _, f := range frames {
		switch {
		case n >= len(f.data):
			n -= len(f.data)
		case n > 0:
			out = append(out, f.data[n:])
			n = 0
		default:
			out = append(out, f.data)
		}
	}
	return out
}

func copyFrames(fs []frame) []frame { return append([]frame(nil), fs...) }
