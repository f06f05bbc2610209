//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An io_uring writer for the syscall floor (floor_linux.go): the same
// sockets and reader, but the writer queues one send per socket in a
// submission ring and hands the kernel a ring-full per io_uring_enter
// instead of making one write(2) each. That is the only way below the
// write(2) floor: fewer syscalls per delivery. Raw syscalls against the
// kernel ABI (include/uapi/linux/io_uring.h); x/sys has the syscall numbers
// but not the structs, and no third-party module is used.

// The kernel ABI constants this file needs.
const (
	ioringOpSend = 26 // IORING_OP_SEND: send(2) on a socket

	ioringSetupSubmitAll    = 1 << 7  // a failed SQE does not stop the rest of the batch
	ioringSetupCoopTaskrun  = 1 << 8  // completion work is not forced on us by an interrupt
	ioringSetupSingleIssuer = 1 << 12 // only the creating thread submits
	ioringSetupDeferTaskrun = 1 << 13 // completion work runs only when we wait for completions

	ioringFeatSingleMmap = 1 << 0 // SQ and CQ rings share one mapping
	ioringEnterGetevents = 1 << 0 // io_uring_enter waits for min_complete CQEs

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000
)

// uringSetupFlags are the -uring-flags choices. SUBMIT_ALL is always set.
var uringSetupFlags = map[string]uint32{
	"defer": ioringSetupSingleIssuer | ioringSetupDeferTaskrun,
	"coop":  ioringSetupCoopTaskrun,
	"none":  0,
}

// uringParams is struct io_uring_params (120 bytes).
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// uringSQE is struct io_uring_sqe (64 bytes), with the unions named for
// how a send uses them.
type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off           uint64
	addr          uint64 // the buffer
	len           uint32
	msgFlags      uint32
	userData      uint64 // handed back in the CQE: the socket's index
	bufIndex      uint16
	personality   uint16
	spliceFDIn    int32
	addr3, pad    uint64
}

// uringCQE is struct io_uring_cqe (16 bytes).
type uringCQE struct {
	userData uint64
	res      int32 // bytes sent, or -errno
	flags    uint32
}

// floorRing is one io_uring with its three shared mappings.
type floorRing struct {
	fd                   int
	flags                uint32 // setup flags the ring was made with
	sqMap, cqMap, sqeMap []byte
	sqHead, sqTail       *uint32 // the kernel moves head, we move tail
	cqHead, cqTail       *uint32 // we move head, the kernel moves tail
	sqMask, cqMask       uint32
	sqes                 []uringSQE
	cqes                 []uringCQE
	entries              int // SQ ring size: the most sends per io_uring_enter
	enters               int // io_uring_enter calls made
}

// newFloorRing sets up a ring of entries SQEs (the kernel rounds up to a
// power of two) and maps it. ENOSYS or EPERM (io_uring compiled out or
// disabled by kernel.io_uring_disabled) come back wrapped, for errors.Is.
func newFloorRing(entries int, flagName string) (*floorRing, error) {
	setup, ok := uringSetupFlags[flagName]
	if !ok {
		return nil, fmt.Errorf("floor: -uring-flags %q: want defer, coop or none", flagName)
	}
	if entries <= 0 {
		return nil, errors.New("floor: -uring-entries must be > 0")
	}
	p := uringParams{flags: setup | ioringSetupSubmitAll}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("floor: io_uring unavailable: io_uring_setup(%d, %s): %w", entries, flagName, errno)
	}
	r := &floorRing{fd: int(fd), flags: p.flags, entries: int(p.sqEntries)}
	if err := r.mmap(&p); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *floorRing) mmap(p *uringParams) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if p.features&ioringFeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	m := func(off int64, size int) ([]byte, error) {
		b, err := unix.Mmap(r.fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return nil, fmt.Errorf("floor: io_uring mmap: %w", err)
		}
		return b, nil
	}
	var err error
	if r.sqMap, err = m(ioringOffSQRing, sqSize); err != nil {
		return err
	}
	r.cqMap = r.sqMap
	if p.features&ioringFeatSingleMmap == 0 {
		if r.cqMap, err = m(ioringOffCQRing, cqSize); err != nil {
			return err
		}
	}
	if r.sqeMap, err = m(ioringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{}))); err != nil {
		return err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(r.sqMap, p.sqOff.head), u32(r.sqMap, p.sqOff.tail), *u32(r.sqMap, p.sqOff.ringMask)
	r.cqHead, r.cqTail, r.cqMask = u32(r.cqMap, p.cqOff.head), u32(r.cqMap, p.cqOff.tail), *u32(r.cqMap, p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMap[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.cqMap[p.cqOff.cqes])), p.cqEntries)
	// The SQ array maps ring slots to SQEs; slot i is SQE i, once and for all.
	array := unsafe.Slice(u32(r.sqMap, p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	return nil
}

// sendAll sends frame once to every fd, a ring-full per io_uring_enter,
// and checks every completion: a failed or short send is an error.
func (r *floorRing) sendAll(fds []int, frame []byte) error {
	// The kernel reads frame by address, maybe after a batch's
	// io_uring_enter returns (from an io-wq worker): keep it in place.
	var pin runtime.Pinner
	pin.Pin(&frame[0])
	defer pin.Unpin()
	buf := uint64(uintptr(unsafe.Pointer(&frame[0])))
	for i := 0; i < len(fds); i += r.entries {
		batch := fds[i:min(i+r.entries, len(fds))]
		tail := *r.sqTail // only we write it
		for j, fd := range batch {
			r.sqes[(tail+uint32(j))&r.sqMask] = uringSQE{opcode: ioringOpSend, fd: int32(fd),
				addr: buf, len: uint32(len(frame)), msgFlags: unix.MSG_NOSIGNAL, userData: uint64(i + j)}
		}
		atomic.StoreUint32(r.sqTail, tail+uint32(len(batch))) // publishes the SQEs to the kernel
		if err := r.submitAndWait(len(batch), fds, len(frame)); err != nil {
			return err
		}
	}
	return nil
}

// submitAndWait submits the k queued SQEs and reaps their k CQEs. One
// io_uring_enter usually does both (sends to sockets with buffer room
// complete inline); the loop covers a wait cut short by a signal (Go
// preempts with SIGURG) and a submission the kernel took only part of.
func (r *floorRing) submitAndWait(k int, fds []int, want int) error {
	var firstErr error
	for reaped := 0; reaped < k; {
		toSubmit := *r.sqTail - atomic.LoadUint32(r.sqHead)
		r.enters++
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit),
			uintptr(k-reaped), ioringEnterGetevents, 0, 0)
		switch errno {
		case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY: // reap what there is and go again
		default:
			return fmt.Errorf("floor: io_uring_enter: %w", errno)
		}
		n, err := r.reap(fds, want)
		reaped += n
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// reap consumes the CQEs the kernel has posted, returning how many and the
// first bad result.
func (r *floorRing) reap(fds []int, want int) (int, error) {
	var err error
	head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail) // the CQEs up to tail are written
	n := int(tail - head)
	for ; head != tail; head++ {
		c := r.cqes[head&r.cqMask]
		if c.res != int32(want) && err == nil {
			if c.res < 0 {
				err = fmt.Errorf("floor: io_uring send to fd %d: %w", fds[c.userData], syscall.Errno(-c.res))
			} else {
				err = fmt.Errorf("floor: io_uring send to fd %d: short send, %d of %d B", fds[c.userData], c.res, want)
			}
		}
	}
	atomic.StoreUint32(r.cqHead, head) // hands the slots back
	return n, err
}

func (r *floorRing) close() {
	if r.cqMap != nil && r.sqMap != nil && &r.cqMap[0] == &r.sqMap[0] {
		r.cqMap = nil // one mapping for both rings: unmap it once
	}
	for _, b := range [][]byte{r.sqeMap, r.cqMap, r.sqMap} {
		if b != nil {
			unix.Munmap(b) //nolint:errcheck
		}
	}
	unix.Close(r.fd) //nolint:errcheck
}

// String is the ring as the floor's line reports it.
func (r *floorRing) String() string {
	var names []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{ioringSetupSingleIssuer, "SINGLE_ISSUER"}, {ioringSetupDeferTaskrun, "DEFER_TASKRUN"},
		{ioringSetupCoopTaskrun, "COOP_TASKRUN"}, {ioringSetupSubmitAll, "SUBMIT_ALL"}} {
		if r.flags&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return fmt.Sprintf("up to %d per io_uring_enter, setup %s", r.entries, strings.Join(names, "|"))
}

// iowqWorkers counts this process's io-wq worker threads (named
// iou-wrk-<tid>): a send that cannot finish inline runs on one, out of
// sight of the writer thread's own CPU figure.
func iowqWorkers() int {
	tasks, _ := os.ReadDir("/proc/self/task")
	n := 0
	for _, t := range tasks {
		if comm, err := os.ReadFile("/proc/self/task/" + t.Name() + "/comm"); err == nil && strings.HasPrefix(string(comm), "iou-wrk") {
			n++
		}
	}
	return n
}
