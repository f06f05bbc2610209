//go:build linux

package hub

import (
	"net"
	"syscall"
	"unsafe"
)

// rawWriter writes without ever blocking: one write(2) or writev(2) of
// what the socket buffer takes, through Go's poller (which serialises it
// with other writes on the fd), never parking the caller.
type rawWriter interface {
	tryWrite(s *writeScratch) (int, error)
}

type sysWriter struct{ rc syscall.RawConn }

func newRawWriter(conn net.Conn) rawWriter {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return sysWriter{rc}
}

// writeScratch is a writer loop's reusable state for one non-blocking
// write: the iovecs and the result, read by a callback bound once so a
// write allocates nothing.
type writeScratch struct {
	bufs [][]byte
	iov  []syscall.Iovec
	n    int
	err  error
	fn   func(fd uintptr) bool
}

func newWriteScratch() *writeScratch {
	s := &writeScratch{}
	s.fn = s.write
	return s
}

func (s *writeScratch) write(fd uintptr) bool {
	for {
		var n int
		var err error
		if len(s.bufs) == 1 {
			n, err = syscall.Write(int(fd), s.bufs[0])
		} else {
			s.iov = s.iov[:0]
			for _, b := range s.bufs {
				v := syscall.Iovec{Base: unsafe.SliceData(b)}
				v.SetLen(len(b))
				s.iov = append(s.iov, v)
			}
			r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(unsafe.SliceData(s.iov))), uintptr(len(s.iov)))
			n = int(r)
			if e != 0 {
				err = e
			}
		}
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			n, err = 0, nil
		}
		if n < 0 {
			n = 0
		}
		s.n, s.err = n, err
		return true // never wait for writability here
	}
}

func (w sysWriter) tryWrite(s *writeScratch) (int, error) {
	s.n, s.err = 0, nil
	if err := w.rc.Write(s.fn); err != nil {
		return 0, err
	}
	return s.n, s.err
}
