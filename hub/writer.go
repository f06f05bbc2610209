package hub

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
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
	ring    *ringState // nil: every write is a write(2)/writev(2)

	partials atomic.Int64 // short writes handed to a goroutine (for tests)
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
			if w.ring != nil {
				w.ring.r.stop()
			}
			return
		case <-w.wake:
		}
		w.mu.Lock()
		batch, w.ready = w.ready, batch[:0]
		w.mu.Unlock()
		if w.ring != nil {
			w.flushRing(batch)
			clear(batch)
			continue
		}
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
		var ok bool
		if w.frames, ok = w.take(c, w.frames); !ok {
			return
		}
		n, err := w.tryWrite(c, w.frames)
		if !w.settle(c, w.frames, n, err) {
			return
		}
	}
}

// take drains c's queue into buf for one non-blocking write and takes c's
// write lock. ok is false when there is nothing for the loop to write:
// the queue is empty, closed (a goroutine closes c), or the library holds
// the lock (a goroutine writes the frames, waiting for it).
func (w *writer) take(c *Client, buf []frame) (frames []frame, ok bool) {
	frames, closed, more := c.q.drain(buf)
	if !more {
		return frames, false
	}
	if closed {
		go c.finish()
		clear(frames) // dropped: c is closing
		return frames[:0], false
	}
	if !c.wire.mu.TryLock() {
		// The library is writing (a close or pong): do not wait for it here.
		go c.writeLoop(copyFrames(frames))
		clear(frames)
		return frames[:0], false
	}
	return frames, true
}

// tryWrite makes one non-blocking write(2)/writev(2) of frames to c.
func (w *writer) tryWrite(c *Client, frames []frame) (int, error) {
	s := w.scratch
	s.bufs = s.bufs[:0]
	for _, f := range frames {
		s.bufs = append(s.bufs, f.data)
	}
	n, err := c.wire.raw.tryWrite(s)
	clear(s.bufs)
	return n, err
}

// settle applies the outcome of one non-blocking write of frames to c (n
// bytes went out, or err), whichever way it was made: the caller holds c's
// write lock, and settle releases it or hands it on. It clears frames. true:
// everything went out (or c is now closing): drain c again.
func (w *writer) settle(c *Client, frames []frame, n int, err error) bool {
	total := 0
	for _, f := range frames {
		total += len(f.data)
	}
	switch {
	case err != nil:
		c.wire.mu.Unlock()
		clear(frames)
		c.closeWith(statusAbnormal, "")
		c.ws.CloseNow() //nolint:errcheck
		return true     // the next drain sees the queue closed
	case n < total:
		// The socket buffer is full: the rest, and the write lock (a
		// frame may be half out), go to a goroutine that may wait.
		w.partials.Add(1)
		rest := remaining(frames, n)
		go c.finishPartial(rest, copyFrames(frames))
		clear(frames)
		return false
	}
	c.wire.mu.Unlock()
	c.h.metrics.delivered(frames, time.Now())
	clear(frames)
	return true
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
