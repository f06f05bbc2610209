package hub

import (
	"encoding/binary"
	"sync"
	"time"
)

// frame is one server message, already framed for the wire: data is the
// WebSocket frame header followed by the JSON payload, built once and shared
// by every connection it goes to. ts is the commit time of the event it
// carries (zero for control frames), for the delivery-latency histogram.
type frame struct {
	data []byte
	hdr  int // header length: data[hdr:] is the payload
	ts   time.Time
}

// WebSocket opcodes the hub frames itself (RFC 6455 §5.2).
const (
	opText = 0x1
	opPing = 0x9
	opPong = 0xA
)

// textFrame frames payload as one final, unmasked text frame (RFC 6455
// §5.2) — exactly the bytes a server sends for a message.
func textFrame(payload []byte, ts time.Time) frame {
	return serverFrame(opText, payload, ts)
}

// controlFrame frames a ping or pong (payload ≤ 125 bytes).
func controlFrame(op byte, payload []byte) frame {
	return serverFrame(op, payload, time.Time{})
}

func serverFrame(op byte, payload []byte, ts time.Time) frame {
	var h [10]byte
	h[0] = 0x80 | op // FIN + opcode
	n := 2
	switch l := len(payload); {
	case l < 126:
		h[1] = byte(l)
	case l <= 0xFFFF:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(l))
		n = 4
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(l))
		n = 10
	}
	b := make([]byte, 0, n+len(payload))
	b = append(append(b, h[:n]...), payload...)
	return frame{data: b, hdr: n, ts: ts}
}

func (f frame) payload() []byte { return f.data[f.hdr:] }

// queue is a connection's bounded send queue. It also decides when the
// connection's writer goroutine runs: one is started when the first frame
// arrives and exits once it has written everything, so an idle connection
// has no writer goroutine (and its stack) at all. It is a mutex-guarded
// slice rather than a buffered channel so an idle connection costs nothing
// (a channel of capacity N allocates N slots up front) and the writer takes
// everything queued in one go.
type queue struct {
	mu       sync.Mutex
	frames   []frame
	bytes    int
	closed   bool
	running  bool // a writer goroutine owns the queue's output
	maxCount int
	maxBytes int
}

func newQueue(maxCount, maxBytes int) *queue {
	return &queue{maxCount: maxCount, maxBytes: maxBytes}
}

// push appends f. ok is false when the queue is closed or full (the caller
// then treats the connection as a slow consumer); start is true when the
// caller must start the writer.
func (q *queue) push(f frame) (ok, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.frames) >= q.maxCount || q.bytes+len(f.data) > q.maxBytes {
		return false, false
	}
	q.frames = append(q.frames, f)
	q.bytes += len(f.data)
	return true, q.claim()
}

// claim marks the writer as running; true if it was not.
func (q *queue) claim() bool {
	if q.running {
		return false
	}
	q.running = true
	return true
}

// drain takes every queued frame, reusing buf's storage. When there is
// nothing to take and the queue is open, the writer's turn ends (running
// is cleared under the same lock push takes, so no frame is left behind).
func (q *queue) drain(buf []frame) (out []frame, closed, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	buf = append(buf[:0], q.frames...)
	clear(q.frames)
	if cap(q.frames) > 64 {
		q.frames = nil // give back a burst's backing array
	} else {
		q.frames = q.frames[:0]
	}
	q.bytes = 0
	if len(buf) == 0 && !q.closed {
		q.running = false
		return buf, false, false
	}
	return buf, q.closed, true
}

// close makes further pushes fail; start is true when the caller must
// start the writer (which then sends the close frame).
func (q *queue) close() (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	return q.claim()
}
