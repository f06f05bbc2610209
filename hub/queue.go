package hub

import (
	"sync"
	"time"
)

// frame is one encoded server message. ts is the commit time of the event
// it carries (zero for control frames), for the delivery-latency histogram.
type frame struct {
	data []byte
	ts   time.Time
}

// queue is a connection's bounded send queue. It is a mutex-guarded slice
// rather than a buffered channel so an idle connection costs nothing (a
// channel of capacity N allocates N slots up front) and the writer can take
// everything queued in one go.
type queue struct {
	mu       sync.Mutex
	frames   []frame
	bytes    int
	closed   bool
	notify   chan struct{} // capacity 1: "something changed"
	maxCount int
	maxBytes int
}

func newQueue(maxCount, maxBytes int) *queue {
	return &queue{notify: make(chan struct{}, 1), maxCount: maxCount, maxBytes: maxBytes}
}

// push appends f; it reports false when the queue is closed or full (the
// caller then treats the connection as a slow consumer).
func (q *queue) push(f frame) bool {
	q.mu.Lock()
	if q.closed || len(q.frames) >= q.maxCount || q.bytes+len(f.data) > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.frames = append(q.frames, f)
	q.bytes += len(f.data)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// drain takes every queued frame, reusing buf's storage.
func (q *queue) drain(buf []frame) ([]frame, bool) {
	q.mu.Lock()
	buf = append(buf[:0], q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	q.bytes = 0
	closed := q.closed
	q.mu.Unlock()
	return buf, closed
}

// close makes further pushes fail and wakes the writer.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}
