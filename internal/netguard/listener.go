// Package netguard keeps a server alive when it runs out of file
// descriptors. Its Listener caps the connections open at once below the
// process's descriptor limit (so Postgres and Redis dials, log files and
// /health keep a reserve), answers connections past the cap with an HTTP
// 503 and closes them, and retries Accept with a back-off (5 ms doubling
// to 1 s, as net/http does) where fasthttp would return EMFILE/ENFILE as a
// fatal error and the node would exit.
package netguard

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config tunes a Listener. Zero values take the defaults.
type Config struct {
	// MaxConns is the most connections open at once (HTTP and hijacked
	// WebSockets alike). Default: the descriptor limit minus Reserve.
	MaxConns int
	// Reserve is how many descriptors are left to everything else
	// (database and Redis pools, SMTP, files). Default: max(128, limit/8).
	Reserve int
	// Spares is how many /dev/null descriptors are held open to be given up
	// when Accept still meets EMFILE (something else used the reserve): one
	// is closed so the waiting connection can be accepted and told 503
	// instead of hanging in the backlog. Default 4; negative = none.
	Spares int
	Logger *slog.Logger
	// OnShed, when set, is told each time a connection is refused:
	// reason "max_connections" or "fd_exhausted".
	OnShed func(reason string)
	// OnAcceptError, when set, is told each Accept error that was retried.
	OnAcceptError func(err error)
}

// Listener is a net.Listener that never gives up on EMFILE and never holds
// more than MaxConns connections.
type Listener struct {
	inner  net.Listener
	cfg    Config
	open   atomic.Int64
	done   chan struct{}
	closed sync.Once

	mu     sync.Mutex // guards spares
	spares []int

	lingering atomic.Int32 // shed connections still being drained
	lastLog   atomic.Int64 // unix nanos of the last back-off log line
}

// Wrap returns ln guarded by cfg. The descriptor limit is read once
// (RLIMIT_NOFILE, after Go raised the soft limit to the hard one).
func Wrap(ln net.Listener, cfg Config) *Listener {
	limit := fdLimit()
	if cfg.Reserve <= 0 {
		cfg.Reserve = max(128, limit/8)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = max(1, limit-cfg.Reserve)
	}
	if cfg.Spares == 0 {
		cfg.Spares = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Listener{inner: ln, cfg: cfg, done: make(chan struct{})}
	for range max(0, cfg.Spares) {
		if fd, err := openSpare(); err == nil {
			l.spares = append(l.spares, fd)
		}
	}
	return l
}

// MaxConns is the cap in force.
func (l *Listener) MaxConns() int { return l.cfg.MaxConns }

// Open is the number of accepted connections not yet closed.
func (l *Listener) Open() int { return int(l.open.Load()) }

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Close closes the inner listener, ends any back-off wait and frees the
// spare descriptors. Open connections are not touched.
func (l *Listener) Close() error {
	l.closed.Do(func() {
		close(l.done)
		l.mu.Lock()
		for _, fd := range l.spares {
			syscall.Close(fd) //nolint:errcheck
		}
		l.spares = nil
		l.mu.Unlock()
	})
	return l.inner.Close()
}

// Accept returns the next connection under the cap. Connections past the
// cap are answered 503 and closed here; retryable errors (EMFILE, ENFILE,
// ENOBUFS, ENOMEM, ECONNABORTED, any net.Error that says Temporary) are
// waited out with a back-off. It returns an error only when the listener
// is closed or fails in a way a retry cannot mend.
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.inner.Accept()
		if err == nil {
			delay = 0
			if l.open.Add(1) > int64(l.cfg.MaxConns) {
				l.open.Add(-1)
				l.shed(c, "max_connections")
				continue
			}
			return &conn{Conn: c, l: l}, nil
		}
		if !retryable(err) {
			return nil, err
		}
		if l.cfg.OnAcceptError != nil {
			l.cfg.OnAcceptError(err)
		}
		if fdExhausted(err) {
			l.shedWithSpare()
		}
		delay = nextDelay(delay)
		l.logBackoff(err, delay)
		select {
		case <-time.After(delay):
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
}

// nextDelay is net/http's accept back-off: 5 ms, doubling, at most 1 s.
func nextDelay(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

// logBackoff logs at most one line a second, so a node out of descriptors
// does not also fill its disk.
func (l *Listener) logBackoff(err error, delay time.Duration) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.cfg.Logger.Warn("accept failed; retrying", "err", err, "retry_in", delay,
		"open_connections", l.open.Load(), "max_connections", l.cfg.MaxConns)
}

// retryable reports whether an Accept error may go away by itself.
func retryable(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EAGAIN, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
}

func fdExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// conn releases its place under the cap when closed (once, however often
// Close is called). It forwards SyscallConn, so the hub's raw writes and
// io_uring still reach the socket.
type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// SyscallConn exposes the socket's descriptor (syscall.Conn).
func (c *conn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("netguard: connection has no descriptor")
	}
	return sc.SyscallConn()
}

// CloseWrite half-closes a TCP connection (used by fasthttp-free callers).
func (c *conn) CloseWrite() error {
	if tc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return tc.CloseWrite()
	}
	return errors.New("netguard: connection cannot half-close")
}
