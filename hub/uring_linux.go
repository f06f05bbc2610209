//go:build linux

package hub

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring send path (Options.IOUring): a writer loop puts one send per
// ready connection in its ring and hands the kernel a ring-full per
// io_uring_enter instead of making one write(2) each (loadtest floor -mode
// uring measured ~21% less writer CPU per delivery). Raw syscalls against
// the kernel ABI (include/uapi/linux/io_uring.h), as in
// loadtest/floor_uring_linux.go; x/sys has the numbers but not the structs.
//
// Descriptor lifetime. An SQE naming a raw fd number would be unsafe: the
// socket may be closed by another goroutine and the number reused by a new
// connection before the send runs. So each ring has a sparse table of
// fixed files and every SQE names a slot (IOSQE_FIXED_FILE), never an fd:
//
//   - attach installs the socket into a free slot when the connection is
//     given to its writer loop (the fd is read under RawConn.Control, so it
//     is the live socket's). The ring now holds its own reference to the
//     socket file: a reused fd number can never be written to.
//   - That reference also keeps the TCP connection open after Go closes its
//     fd. Wire.Close (which coder/websocket's Close and CloseNow call: the
//     hijacked conn it was given is the Wire) therefore clears the slot
//     (update to -1) right after closing the fd, and that is the only way
//     a Wire's socket is closed. Clearing takes wire.mu, which a writer
//     loop holds from before it queues an SQE until after it has reaped the
//     CQE (nothing is ever in flight once the loop moves on), so a slot is
//     never cleared, nor reused, under a send. Close closes the fd first
//     and only then waits for mu: a goroutine holding mu in a blocking
//     write (finishPartial) is woken by the close instead of holding Close
//     up for the write timeout. No path closes the wire while holding mu
//     (the writers unlock before CloseNow; the library's writes go through
//     Wire.Write, which never closes).
//   - A send that runs between the fd's close and the slot's clearing goes
//     to the still-open socket of a connection that is closing anyway.
//
// The ring is set up without SINGLE_ISSUER/DEFER_TASKRUN: slots are updated
// (io_uring_register) from whatever goroutine attaches or closes a
// connection, and the loop's goroutine may move between threads. Every send
// is MSG_DONTWAIT, so a full socket completes at once with -EAGAIN or a
// short count instead of arming a poll: no request outlives its
// io_uring_enter, no completion depends on task work of a particular
// thread, and the loop needs no LockOSThread.

// Kernel ABI constants.
const (
	ioringOpSendmsg = 9  // IORING_OP_SENDMSG
	ioringOpSend    = 26 // IORING_OP_SEND

	iosqeFixedFile = 1 << 0 // IOSQE_FIXED_FILE: sqe.fd is a slot of the file table

	ioringSetupSubmitAll = 1 << 7 // a failed SQE does not stop the rest of the batch

	ioringFeatSingleMmap = 1 << 0
	ioringEnterGetevents = 1 << 0

	ioringRegisterFilesUpdate = 6  // IORING_REGISTER_FILES_UPDATE
	ioringRegisterFiles2      = 13 // IORING_REGISTER_FILES2
	ioringRsrcRegisterSparse  = 1 << 0

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000

	// ringEntries is the most sends per io_uring_enter.
	ringEntries = 256
	// ringSlots is the size of a ring's file table (capped by RLIMIT_NOFILE,
	// which the kernel checks it against): connections past it use write(2).
	ringSlots = 65536
)

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

// uringSQE is struct io_uring_sqe (64 bytes), unions named for a send.
type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32 // here: the fixed-file slot
	off           uint64
	addr          uint64 // the buffer (SEND) or the msghdr (SENDMSG)
	len           uint32
	msgFlags      uint32
	userData      uint64 // the op's index in the loop's batch
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

// uringRsrcRegister is struct io_uring_rsrc_register (32 bytes).
type uringRsrcRegister struct {
	nr, flags uint32
	resv2     uint64
	data      uint64
	tags      uint64
}

// uringFilesUpdate is struct io_uring_files_update (16 bytes).
type uringFilesUpdate struct {
	offset, resv uint32
	fds          uint64 // *int32
}

// Checked once against the kernel's sizes.
var _ = [1]struct{}{}[unsafe.Sizeof(uringParams{})-120]
var _ = [1]struct{}{}[unsafe.Sizeof(uringSQE{})-64]
var _ = [1]struct{}{}[unsafe.Sizeof(uringCQE{})-16]
var _ = [1]struct{}{}[unsafe.Sizeof(uringRsrcRegister{})-32]
var _ = [1]struct{}{}[unsafe.Sizeof(uringFilesUpdate{})-16]

// uring is one writer loop's ring. The SQ/CQ are used only by that loop;
// the file table (mu) by whoever attaches or closes a connection.
type uring struct {
	fd                   int
	sqMap, cqMap, sqeMap []byte
	sqHead, sqTail       *uint32
	cqHead, cqTail       *uint32
	sqMask, cqMask       uint32
	sqes                 []uringSQE
	cqes                 []uringCQE
	entries              int

	mu      sync.Mutex
	slots   int32   // table size
	next    int32   // slots below next have been handed out at least once
	free    []int32 // slots given back
	used    int     // slots holding a socket
	stopped bool    // the loop has ended: no new slots; closed once used is 0
	closed  bool
	upd     uringFilesUpdate // update's argument
	updFD   int32
}

// newUring sets up a ring and its sparse file table. ENOSYS/EPERM (no
// io_uring, or kernel.io_uring_disabled) come back wrapped for errors.Is.
func newUring() (*uring, error) {
	p := uringParams{flags: ioringSetupSubmitAll}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &uring{fd: int(fd), entries: int(p.sqEntries)}
	if err := r.mmap(&p); err != nil {
		r.unmap()
		return nil, err
	}
	slots := uint64(ringSlots)
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < slots {
		slots = lim.Cur
	}
	reg := uringRsrcRegister{nr: uint32(slots), flags: ioringRsrcRegisterSparse}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterFiles2,
		uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0, 0); errno != 0 {
		r.unmap()
		return nil, fmt.Errorf("io_uring_register(FILES2, %d sparse): %w", slots, errno)
	}
	r.slots = int32(slots)
	return r, nil
}

func (r *uring) mmap(p *uringParams) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if p.features&ioringFeatSingleMmap != 0 {
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
	array := unsafe.Slice(u32(r.sqMap, p.sqOff.array), p.sqEntries)
	for i := range array {
		array[i] = uint32(i) // ring slot i is SQE i, once and for all
	}
	return nil
}

// unmap releases the mappings and the ring (and with it every file the
// table still holds).
func (r *uring) unmap() {
	if r.cqMap != nil && r.sqMap != nil && &r.cqMap[0] == &r.sqMap[0] {
		r.cqMap = nil
	}
	for _, b := range [][]byte{r.sqeMap, r.cqMap, r.sqMap} {
		if b != nil {
			unix.Munmap(b) //nolint:errcheck
		}
	}
	r.sqeMap, r.cqMap, r.sqMap = nil, nil, nil
	unix.Close(r.fd) //nolint:errcheck
}

// update points slot at fd (-1: empty); the caller holds mu. The argument
// and the fd it points to live in r (heap memory, which does not move),
// not on a stack that could move before the call.
func (r *uring) update(slot int32, fd int32) error {
	r.updFD = fd
	r.upd = uringFilesUpdate{offset: uint32(slot), fds: uint64(uintptr(unsafe.Pointer(&r.updFD)))}
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), ioringRegisterFilesUpdate,
		uintptr(unsafe.Pointer(&r.upd)), 1, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// install puts fd in a free slot; -1 when none is free or the ring stopped.
func (r *uring) install(fd int) int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return -1
	}
	var slot int32
	switch {
	case len(r.free) > 0:
		slot = r.free[len(r.free)-1]
		r.free = r.free[:len(r.free)-1]
	case r.next < r.slots:
		slot = r.next
		r.next++
	default:
		return -1
	}
	if r.update(slot, int32(fd)) != nil {
		r.free = append(r.free, slot)
		return -1
	}
	r.used++
	return slot
}

// release empties slot: the ring drops its reference to the socket.
func (r *uring) release(slot int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.update(slot, -1) //nolint:errcheck // only EBADF/EINVAL, which cannot happen on a live ring
	r.free = append(r.free, slot)
	r.used--
	r.closeIfDone()
}

// stop is called by the loop when it ends: the ring goes once no
// connection holds a slot (their sockets are written by goroutines now).
func (r *uring) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	r.closeIfDone()
}

func (r *uring) closeIfDone() {
	if r.stopped && r.used == 0 && !r.closed {
		r.closed = true
		r.unmap()
	}
}

// attach installs the wire's socket in r's file table, if r is set and a
// slot is free; without a slot the wire is written with write(2).
func (w *Wire) attach(r *uring) {
	if r == nil {
		return
	}
	sc, ok := w.Conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ringed.Store(true) // before the fd is read: see Wire.Close
	if w.closed {
		return
	}
	slot := int32(-1)
	if rc.Control(func(fd uintptr) { slot = r.install(int(fd)) }) != nil || slot < 0 {
		return
	}
	w.ring, w.slot = r, slot
}

// detach clears the wire's slot, if it has one (the caller closed the fd).
func (w *Wire) detach() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.ring != nil {
		w.ring.release(w.slot)
		w.ring, w.slot = nil, -1
	}
}

// ringOp is one send of a ring round: the client, its frames and the
// iovecs/msghdr the kernel reads, all owned by the loop until the CQE is
// reaped.
type ringOp struct {
	c      *Client
	frames []frame
	total  int
	iov    []unix.Iovec
	msg    unix.Msghdr
}

// ringState is a writer loop's io_uring state.
type ringState struct {
	r    *uring
	ops  []ringOp  // len entries, never reallocated: &ops[i].msg stays put
	res  []int32   // CQE result per op
	cur  []*Client // clients of the next round
	next []*Client // clients whose send went out whole: drain them again
}

func newRingState(r *uring) *ringState {
	return &ringState{r: r, ops: make([]ringOp, r.entries), res: make([]int32, r.entries)}
}

// flushRing writes everything the batch's clients have queued: each round
// takes every client's frames (take: drain + the write lock) and queues one
// send per client, a ring-full per io_uring_enter, then applies each
// outcome as the write(2) path does (settle). Clients whose send went out
// whole are drained again in the next round, until nothing is left.
func (w *writer) flushRing(batch []*Client) {
	rs := w.ring
	for cur := batch; len(cur) > 0; cur = rs.cur {
		rs.next = rs.next[:0]
		k := 0
		for _, c := range cur {
			op := &rs.ops[k]
			var ok bool
			if op.frames, ok = w.take(c, op.frames); !ok {
				continue
			}
			if c.wire.ring != rs.r { // no slot in this ring: write(2), as without it
				if n, err := w.tryWrite(c, op.frames); w.settle(c, op.frames, n, err) {
					rs.next = append(rs.next, c)
				}
				op.frames = op.frames[:0]
				continue
			}
			op.c = c
			rs.prep(k)
			if k++; k == len(rs.ops) {
				rs.submit(k)
				w.settleRing(k)
				k = 0
			}
		}
		if k > 0 {
			rs.submit(k)
			w.settleRing(k)
		}
		clear(rs.cur)
		rs.cur = append(rs.cur[:0], rs.next...)
		clear(rs.next)
	}
}

// settleRing applies the outcomes of the round's first k ops.
func (w *writer) settleRing(k int) {
	rs := w.ring
	for i := 0; i < k; i++ {
		op := &rs.ops[i]
		n, err := int(rs.res[i]), error(nil)
		switch {
		case n == -int(syscall.EAGAIN):
			n = 0 // the socket buffer is full: like a short write
		case n < 0:
			n, err = 0, syscall.Errno(-n)
		}
		if w.settle(op.c, op.frames, n, err) {
			rs.next = append(rs.next, op.c)
		}
		op.c = nil
		op.frames = op.frames[:0]
	}
}

// prep fills SQE i for op i: SEND for one frame, SENDMSG (one writev's
// worth) for several. One SQE per client rather than linked SENDs: a short
// send then is one result to hand over, exactly as a short writev.
func (rs *ringState) prep(i int) {
	op := &rs.ops[i]
	op.total = 0
	sqe := uringSQE{flags: iosqeFixedFile, fd: op.c.wire.slot,
		msgFlags: unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL, userData: uint64(i)}
	if len(op.frames) == 1 {
		b := op.frames[0].data
		op.total = len(b)
		sqe.opcode, sqe.addr, sqe.len = ioringOpSend, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint32(len(b))
	} else {
		op.iov = op.iov[:0]
		for _, f := range op.frames {
			v := unix.Iovec{Base: unsafe.SliceData(f.data)}
			v.SetLen(len(f.data))
			op.iov = append(op.iov, v)
			op.total += len(f.data)
		}
		op.msg = unix.Msghdr{Iov: unsafe.SliceData(op.iov)}
		op.msg.SetIovlen(len(op.iov))
		sqe.opcode, sqe.addr, sqe.len = ioringOpSendmsg, uint64(uintptr(unsafe.Pointer(&op.msg))), 1
	}
	r := rs.r
	r.sqes[(*r.sqTail+uint32(i))&r.sqMask] = sqe
}

// submit hands the k prepared SQEs to the kernel and waits for all k
// completions, so nothing is in flight when it returns: the frames, iovecs
// and msghdrs the SQEs point at are Go heap memory (which does not move)
// reachable from rs.ops until then. The results land in rs.res.
func (rs *ringState) submit(k int) {
	r := rs.r
	atomic.StoreUint32(r.sqTail, *r.sqTail+uint32(k)) // publishes the SQEs
	for reaped := 0; reaped < k; {
		toSubmit := *r.sqTail - atomic.LoadUint32(r.sqHead)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit),
			uintptr(k-reaped), ioringEnterGetevents, 0, 0)
		switch errno {
		case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY: // reap what there is and go again
		default:
			// EBADF, EFAULT, EINVAL…: not on a live ring with SQEs built
			// here. The SQEs point at memory the loop would reuse, so it
			// can neither drop them nor go on.
			panic(fmt.Sprintf("hub: io_uring_enter: %v", errno))
		}
		head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := r.cqes[head&r.cqMask]
			rs.res[c.userData] = c.res
			reaped++
		}
		atomic.StoreUint32(r.cqHead, head)
	}
	runtime.KeepAlive(rs.ops)
}

// setupRings gives each writer a ring, or none at all if one fails.
func setupRings(ws []*writer) error {
	rings := make([]*uring, 0, len(ws))
	for range ws {
		r, err := newUring()
		if err != nil {
			for _, r := range rings {
				r.stop()
			}
			return err
		}
		rings = append(rings, r)
	}
	for i, w := range ws {
		w.ring = newRingState(rings[i])
	}
	return nil
}
