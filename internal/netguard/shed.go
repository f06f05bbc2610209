package netguard

import (
	"net"
	"strconv"
	"syscall"
	"time"
)

// shedBody is the SPEC's error JSON for a refused connection.
const shedBody = `{"error":{"code":"service_unavailable","message":"server at connection capacity, retry shortly","details":{}}}`

// shedResponse is written whole to a connection past the cap.
var shedResponse = []byte("HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: application/json\r\n" +
	"Cache-Control: no-store\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: " + strconv.Itoa(len(shedBody)) + "\r\n\r\n" + shedBody)

// maxLingering bounds the shed connections drained at once: each holds a
// descriptor for up to lingerFor. Past it a shed connection is closed at
// once (the client may then see a reset instead of the 503).
const (
	maxLingering = 64
	lingerFor    = 500 * time.Millisecond
)

// shed answers c with 503 and closes it. The request the client may already
// have sent is read and dropped for a moment first: closing a socket with
// unread data makes the kernel send a reset, which can destroy the 503
// before the client reads it.
func (l *Listener) shed(c net.Conn, reason string) {
	if l.cfg.OnShed != nil {
		l.cfg.OnShed(reason)
	}
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)) //nolint:errcheck
	if _, err := c.Write(shedResponse); err != nil || l.lingering.Add(1) > maxLingering {
		if err == nil {
			l.lingering.Add(-1)
		}
		c.Close() //nolint:errcheck
		return
	}
	go func() {
		defer l.lingering.Add(-1)
		if tc, ok := c.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite() //nolint:errcheck
		}
		c.SetReadDeadline(time.Now().Add(lingerFor)) //nolint:errcheck
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Close() //nolint:errcheck
	}()
}

// shedWithSpare runs when Accept met EMFILE: it gives up one spare
// descriptor and, through it, answers 503 to every connection already
// waiting in the backlog (at most maxDrain), then takes the spare back.
// Without spares the connections wait in the backlog until a descriptor
// frees up.
func (l *Listener) shedWithSpare() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.spares) == 0 {
		return
	}
	fd := l.spares[len(l.spares)-1]
	l.spares = l.spares[:len(l.spares)-1]
	syscall.Close(fd) //nolint:errcheck
	if tl, ok := l.inner.(*net.TCPListener); ok {
		defer tl.SetDeadline(time.Time{}) //nolint:errcheck
		for range maxDrain {
			// Do not wait for a client: only connections already queued.
			tl.SetDeadline(time.Now().Add(time.Millisecond)) //nolint:errcheck
			c, err := tl.Accept()
			if err != nil {
				break
			}
			if l.cfg.OnShed != nil {
				l.cfg.OnShed("fd_exhausted")
			}
			c.Write(shedResponse) //nolint:errcheck // best effort, the socket is new
			c.Close()             //nolint:errcheck
		}
	}
	if fd, err := openSpare(); err == nil {
		l.spares = append(l.spares, fd)
	}
}

// maxDrain bounds one shedWithSpare pass, so Accept gets back to serving.
const maxDrain = 1024

// openSpare opens /dev/null read-only: one descriptor held in reserve.
func openSpare() (int, error) {
	return syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
}

// fdLimit is the process's soft RLIMIT_NOFILE; 1024 where it cannot be
// read, and capped at 1<<20 for the "unlimited" case.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 1024
	}
	return int(min(r.Cur, 1<<20))
}
