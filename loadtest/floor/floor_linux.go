//go:build linux

package floor

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// The syscall floor of fan-out: what one 180-byte frame to each of N
// loopback TCP sockets costs with nothing but write(2) on one side and an
// epoll loop reading on the other, in one process. No WebSocket code, no
// queues, no goroutine per socket, and the sockets are made with raw
// syscalls so that Go's own poller never sees them. A hub cannot beat this
// without fewer syscalls per delivery; the fanout scenario reports its own
// figures as a ratio of it, measured in the same run on the same machine.

// floorFrameBytes is the size of one availability.changed event frame as
// the hub sends it (WebSocket header + JSON).
const floorFrameBytes = 180

// rusageThread is Linux's RUSAGE_THREAD (the syscall package has no name
// for it): the CPU time of the calling thread only.
const rusageThread = 1

// MeasureMode runs rounds fan-outs over n socket pairs with the writer
// opt names. n is lowered (and the result says so) when 2n sockets do not
// fit the open-files limit.
func MeasureMode(n, rounds int, opt Options) (*Stats, error) {
	if n <= 0 || rounds <= 0 {
		return nil, errors.New("floor: need sockets and rounds > 0")
	}
	res := &Stats{Requested: n, FrameBytes: floorFrameBytes, Rounds: rounds, Mode: opt.Mode}
	limit, err := RaiseFDLimit()
	if err != nil {
		return nil, fmt.Errorf("floor: open-files limit: %w", err)
	}
	// Two descriptors per pair, plus the listener, the epoll and what the
	// process already holds (std streams, Go's poller, a server's sockets).
	if fit := (int(limit) - 100) / 2; n > fit {
		res.Note = fmt.Sprintf("open-files limit %d fits %d socket pairs, not %d", limit, fit, n)
		n = fit
	}
	res.Sockets = n

	p, err := newFloorPairs(n)
	defer p.close()
	if err != nil {
		return nil, err
	}
	done := make(chan floorRound)
	errc := make(chan error, 1)
	go func() { errc <- p.read(rounds, done) }()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The ring is made on this locked thread: with SINGLE_ISSUER only the
	// thread that made it may submit.
	var ring *floorRing
	if opt.Mode == "uring" {
		if ring, err = newFloorRing(opt.UringEntries, opt.UringFlags); err != nil {
			return nil, err
		}
		defer ring.close()
		res.Uring = ring.String()
	}
	frame := make([]byte, floorFrameBytes)
	for i := range frame {
		frame[i] = 'x'
	}
	var tot roundTotals
	for range rounds {
		if err := tot.round(p, ring, frame, done, errc); err != nil {
			return nil, err
		}
	}
	tot.fill(res, n, rounds, opt, ring)
	return res, nil
}

// roundTotals adds up the rounds: each round's last delivery and the CPU
// of the writer thread, the reader thread and the rest of the process.
type roundTotals struct {
	lat                  []time.Duration
	writer, reader, rest time.Duration
}

// round writes frame to every socket and waits for the reader to have
// read them all.
func (t *roundTotals) round(p *floorPairs, ring *floorRing, frame []byte, done <-chan floorRound, errc <-chan error) error {
	time.Sleep(20 * time.Millisecond) // let the reader park in epoll_wait, as a real reader would be
	cpu0, proc0 := threadCPU(), processCPU()
	start := time.Now()
	if ring != nil {
		if err := ring.sendAll(p.writers, frame); err != nil {
			return err
		}
	} else {
		for _, fd := range p.writers {
			if _, err := syscall.Write(fd, frame); err != nil {
				return fmt.Errorf("floor: write: %w", err)
			}
		}
	}
	t.writer += threadCPU() - cpu0
	select {
	case rd := <-done:
		t.lat = append(t.lat, rd.last.Sub(start))
		t.reader += rd.cpu
		t.rest += processCPU() - proc0 - rd.cpu
		return nil
	case err := <-errc:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("floor: a round did not complete in 30s")
	}
}

// fill sets res's latency and CPU per delivery from the totals of rounds
// fan-outs to n sockets.
func (t *roundTotals) fill(res *Stats, n, rounds int, opt Options, ring *floorRing) {
	slices.Sort(t.lat)
	res.LastP50Seconds = t.lat[len(t.lat)/2].Seconds()
	res.LastMaxSeconds = t.lat[len(t.lat)-1].Seconds()
	deliveries := float64(n * rounds)
	res.WriterCPUPerDeliveryMicros = float64(t.writer.Microseconds()) / deliveries
	res.ReaderCPUPerDeliveryMicros = float64(t.reader.Microseconds()) / deliveries
	if opt.Mode != "" {
		res.ProcessCPUPerDeliveryMicros = float64(t.rest.Microseconds()) / deliveries
		res.WriterSyscallsPerRound = float64(n)
		if ring != nil {
			res.WriterSyscallsPerRound = float64(ring.enters) / float64(rounds)
			res.IOWQWorkers = iowqWorkers()
		}
	}
}

// floorPairs are n connected loopback socket pairs: writers (the accepted
// side, TCP_NODELAY like a server's) and readers (non-blocking, in one
// epoll set).
type floorPairs struct {
	listener, epoll int
	writers         []int
	readers         []int
}

func newFloorPairs(n int) (*floorPairs, error) {
	p := &floorPairs{listener: -1, epoll: -1}
	var err error
	if p.listener, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0); err != nil {
		return p, fmt.Errorf("floor: socket: %w", err)
	}
	loop := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(p.listener, loop); err != nil {
		return p, fmt.Errorf("floor: bind: %w", err)
	}
	if err := syscall.Listen(p.listener, 4096); err != nil {
		return p, fmt.Errorf("floor: listen: %w", err)
	}
	sa, err := syscall.Getsockname(p.listener)
	if err != nil {
		return p, fmt.Errorf("floor: getsockname: %w", err)
	}
	if p.epoll, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return p, fmt.Errorf("floor: epoll: %w", err)
	}
	for range n {
		c, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return p, fmt.Errorf("floor: socket: %w", err)
		}
		p.readers = append(p.readers, c)
		if err := syscall.Connect(c, sa); err != nil { // loopback: done once the handshake is queued
			return p, fmt.Errorf("floor: connect: %w", err)
		}
		w, _, err := syscall.Accept4(p.listener, syscall.SOCK_CLOEXEC)
		if err != nil {
			return p, fmt.Errorf("floor: accept: %w", err)
		}
		p.writers = append(p.writers, w)
		if err := syscall.SetsockoptInt(w, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			return p, fmt.Errorf("floor: nodelay: %w", err)
		}
		if err := syscall.SetNonblock(c, true); err != nil {
			return p, fmt.Errorf("floor: nonblock: %w", err)
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(c)}
		if err := syscall.EpollCtl(p.epoll, syscall.EPOLL_CTL_ADD, c, &ev); err != nil {
			return p, fmt.Errorf("floor: epoll_ctl: %w", err)
		}
	}
	return p, nil
}

// floorRound is what the reader saw of one round.
type floorRound struct {
	last time.Time     // when the last socket's frame was read
	cpu  time.Duration // reader thread CPU for the round
}

// read drains the readers with epoll_wait until every socket has its frame
// for each of rounds rounds, reporting each round on done.
func (p *floorPairs) read(rounds int, done chan<- floorRound) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	perRound := int64(len(p.readers)) * floorFrameBytes
	var total int64
	cpu0 := threadCPU()
	for r := 0; r < rounds; {
		k, err := syscall.EpollWait(p.epoll, events, 1000)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return fmt.Errorf("floor: epoll_wait: %w", err)
		}
		for _, ev := range events[:k] {
			for {
				m, err := syscall.Read(int(ev.Fd), buf)
				if m > 0 {
					total += int64(m)
				}
				if err != nil || m < len(buf) {
					break // EAGAIN or a short read: the socket is drained
				}
			}
		}
		if total >= perRound*int64(r+1) {
			now := time.Now()
			cpu := threadCPU()
			done <- floorRound{last: now, cpu: cpu - cpu0}
			r++
			cpu0 = threadCPU() // the wait for the next round is not the reader's work
		}
	}
	return nil
}

func (p *floorPairs) close() {
	for _, fd := range append(append([]int{p.listener, p.epoll}, p.writers...), p.readers...) {
		if fd >= 0 {
			syscall.Close(fd) //nolint:errcheck
		}
	}
}

// processCPU is the whole process's user+system CPU time, every thread's,
// io_uring's io-wq workers included (they are threads of this process).
func processCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// threadCPU is the calling OS thread's user+system CPU time.
func threadCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(rusageThread, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
