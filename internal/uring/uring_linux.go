//go:build linux

package uring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP: SQ and CQ rings share one mapping
	enterGetevents = 1 << 0 // IORING_ENTER_GETEVENTS: io_uring_enter waits for min_complete CQEs

	registerFilesUpdate = 6  // IORING_REGISTER_FILES_UPDATE
	registerFiles2      = 13 // IORING_REGISTER_FILES2
	rsrcRegisterSparse  = 1 << 0

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// params is struct io_uring_params (120 bytes).
type params struct {
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

// rsrcRegister is struct io_uring_rsrc_register (32 bytes).
type rsrcRegister struct {
	nr, flags uint32
	resv2     uint64
	data      uint64
	tags      uint64
}

// filesUpdate is struct io_uring_files_update (16 bytes).
type filesUpdate struct {
	offset, resv uint32
	fds          uint64 // *int32
}

// Checked once against the kernel's sizes.
var _ = [1]struct{}{}[unsafe.Sizeof(params{})-120]
var _ = [1]struct{}{}[unsafe.Sizeof(rsrcRegister{})-32]
var _ = [1]struct{}{}[unsafe.Sizeof(filesUpdate{})-16]

// Ring is one io_uring with its three shared mappings.
type Ring struct {
	fd                   int
	sqMap, cqMap, sqeMap []byte
	sqHead, sqTail       *uint32 // the kernel moves head, we move tail
	cqHead, cqTail       *uint32 // we move head, the kernel moves tail
	sqMask, cqMask       uint32
	sqes                 []SQE
	cqes                 []cqe
	entries              int

	upd   filesUpdate // UpdateFile's argument
	updFD int32
}

// New sets up a ring of entries SQEs (the kernel rounds up to a power of
// two) with the IORING_SETUP_* flags and maps it. ENOSYS or EPERM
// (io_uring compiled out, or disabled by kernel.io_uring_disabled) come
// back wrapped, for errors.Is.
func New(entries, flags uint32) (*Ring, error) {
	p := params{flags: flags}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &Ring{fd: int(fd), entries: int(p.sqEntries)}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	if p.features&featSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	m := func(off int64, size int) ([]byte, error) {
		b, err := unix.Mmap(r.fd, off, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return nil, fmt.Errorf("io_uring mmap: %w", err)
		}
		return b, nil
	}
	var err error
	if r.sqMap, err = m(offSQRing, sqSize); err != nil {
		return err
	}
	r.cqMap = r.sqMap
	if p.features&featSingleMmap == 0 {
		if r.cqMap, err = m(offCQRing, cqSize); err != nil {
			return err
		}
	}
	if r.sqeMap, err = m(offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(SQE{}))); err != nil {
		return err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(r.sqMap, p.sqOff.head), u32(r.sqMap, p.sqOff.tail), *u32(r.sqMap, p.sqOff.ringMask)
	r.cqHead, r.cqTail, r.cqMask = u32(r.cqMap, p.cqOff.head), u32(r.cqMap, p.cqOff.tail), *u32(r.cqMap, p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMap[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&r.cqMap[p.cqOff.cqes])), p.cqEntries)
	// The SQ array maps ring slots to SQEs; slot i is SQE i, once and for all.
	array := unsafe.Slice(u32(r.sqMap, p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	return nil
}

// Close releases the mappings and the ring (and with it every file its
// table still holds). It may be called more than once.
func (r *Ring) Close() {
	if r.cqMap != nil && r.sqMap != nil && &r.cqMap[0] == &r.sqMap[0] {
		r.cqMap = nil // one mapping for both rings: unmap it once
	}
	for _, b := range [][]byte{r.sqeMap, r.cqMap, r.sqMap} {
		if b != nil {
			unix.Munmap(b) //nolint:errcheck
		}
	}
	r.sqeMap, r.cqMap, r.sqMap = nil, nil, nil
	if r.fd >= 0 {
		unix.Close(r.fd) //nolint:errcheck
		r.fd = -1
	}
}

// Entries is the SQ ring's size: the most SQEs one Publish may hand over.
func (r *Ring) Entries() int { return r.entries }

// Next is the i-th SQE after those published so far (0 ≤ i < Entries, and
// every SQE published before has been reaped): fill it, then Publish.
func (r *Ring) Next(i int) *SQE {
	return &r.sqes[(*r.sqTail+uint32(i))&r.sqMask] // only we write the tail
}

// Publish hands the next k SQEs to the kernel; Enter submits them.
func (r *Ring) Publish(k int) {
	atomic.StoreUint32(r.sqTail, *r.sqTail+uint32(k))
}

// Enter makes one io_uring_enter: it submits every published SQE the
// kernel has not taken yet and waits for minComplete completions. A wait
// cut short by a signal (Go preempts with SIGURG) or a submission the
// kernel took only part of (EINTR, EAGAIN, EBUSY) is not an error: reap
// what there is and enter again. Any other failure comes back as the
// syscall.Errno.
func (r *Ring) Enter(minComplete int) error {
	toSubmit := *r.sqTail - atomic.LoadUint32(r.sqHead)
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit),
		uintptr(minComplete), enterGetevents, 0, 0)
	switch errno {
	case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY:
		return nil
	}
	return errno
}

// Reap consumes the completions the kernel has posted, calling f with each
// one's SQE.UserData and result (bytes sent, or -errno), and returns how
// many there were.
func (r *Ring) Reap(f func(userData uint64, res int32)) int {
	head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail) // the CQEs up to tail are written
	n := int(tail - head)
	for ; head != tail; head++ {
		c := r.cqes[head&r.cqMask]
		f(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, head) // hands the slots back
	return n
}

// RegisterSparseFiles gives the ring a table of n empty fixed-file slots
// (the kernel checks n against RLIMIT_NOFILE).
func (r *Ring) RegisterSparseFiles(n uint32) error {
	reg := rsrcRegister{nr: n, flags: rsrcRegisterSparse}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerFiles2,
		uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0, 0); errno != 0 {
		return fmt.Errorf("io_uring_register(FILES2, %d sparse): %w", n, errno)
	}
	return nil
}

// UpdateFile points slot of the file table at fd (-1: empty); the ring
// then holds its own reference to the file. Failure is the syscall.Errno.
// The argument and the fd it points to live in r (heap memory, which does
// not move), not on a stack that could move before the call, so calls
// must not overlap.
func (r *Ring) UpdateFile(slot, fd int32) error {
	r.updFD = fd
	r.upd = filesUpdate{offset: uint32(slot), fds: uint64(uintptr(unsafe.Pointer(&r.updFD)))}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerFilesUpdate,
		uintptr(unsafe.Pointer(&r.upd)), 1, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
