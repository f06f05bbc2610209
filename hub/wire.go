package hub

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Per-connection buffer sizes. Client frames are small (subscribe, auth,
// ping) and the hub writes event frames to the socket itself, so the
// library's writer only carries control frames (pong, close: ≤ 131 bytes).
// These two buffers are most of an idle connection's heap.
const (
	wireReadBuf  = 512
	wireWriteBuf = 256
)

// Wire is a connection's socket as the hub uses it. Upgrade it with
// websocket.Accept(wire.Hijacker(), …) and then hand it to Serve. The hub owns it from then on
// and closes it.
//
// Every write takes mu — the library's (through Write) and the hub's
// pre-framed batches — so a frame that went out only in part is finished
// before anything else reaches the socket: a writer loop that meets a full
// socket buffer hands the rest, and mu, to a goroutine.
type Wire struct {
	net.Conn            // the raw socket; reads go straight to it
	raw      rawWriter  // non-blocking writev; nil where the platform or conn has none
	mu       sync.Mutex // held while a frame is being written
	br       *bufio.Reader
	bw       *bufio.Writer

	// The io_uring send path (uring_linux.go): the socket's slot in its
	// writer's ring, guarded by mu. ringed is set (under mu) before a slot
	// is installed, so Close knows whether it may have one to clear.
	ring   *ring // nil: no slot
	slot   int32
	closed bool // Close ran: no slot may be installed any more
	ringed atomic.Bool
}

// NewWire wraps the hijacked socket of a WebSocket upgrade.
func NewWire(conn net.Conn) *Wire {
	w := &Wire{Conn: conn, raw: newRawWriter(conn)}
	w.br = bufio.NewReaderSize(conn, wireReadBuf)
	w.bw = bufio.NewWriterSize(w, wireWriteBuf)
	return w
}

// readWriter is the buffers Hijack returns to websocket.Accept.
func (w *Wire) readWriter() *bufio.ReadWriter { return bufio.NewReadWriter(w.br, w.bw) }

// Write is the library's path (101 response, pong, close): serialised with
// the hub's own batches.
func (w *Wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Conn.Write(p)
}

// Close closes the socket: coder/websocket's Close and CloseNow call it
// (the Wire is the conn it hijacked). Where the socket has a slot in an
// io_uring file table, the ring holds a reference to it that keeps the
// connection open: the slot is cleared too, under mu, after the fd is
// closed (which wakes a writer blocked holding mu), so never under a send.
func (w *Wire) Close() error {
	err := w.Conn.Close()
	if w.ringed.Load() {
		w.detach()
	}
	return err
}

// writeBlocking writes bufs whole within timeout; the caller holds mu.
func (w *Wire) writeBlocking(bufs net.Buffers, timeout time.Duration) error {
	w.Conn.SetWriteDeadline(time.Now().Add(timeout)) //nolint:errcheck
	_, err := bufs.WriteTo(w.Conn)
	// Clear it again: the library's later writes must not inherit a
	// deadline that has passed.
	w.Conn.SetWriteDeadline(time.Time{}) //nolint:errcheck
	return err
}
