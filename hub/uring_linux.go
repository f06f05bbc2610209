//go:build linux

package hub

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"instainstru/internal/uring"
)

// The io_uring send path (Options.IOUring): a writer loop puts one send per
// ready connection in its ring and hands the kernel a ring-full per
// io_uring_enter instead of making one write(2) each (loadtest floor -mode
// uring measured ~21% less writer CPU per delivery). Raw syscalls against
// the kernel ABI (include/uapi/linux/io_uring.h) through internal/uring,
// which loadtest/floor_uring_linux.go uses too.
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

const (
	// ringSlots is the size of a ring's file table (capped by RLIMIT_NOFILE,
	// which the kernel checks it against): connections past it use write(2).
	ringSlots = 65536
)

// ring is one writer loop's io_uring. The SQ/CQ are used only by that
// loop; the file table (mu) by whoever attaches or closes a connection.
type ring struct {
	*uring.Ring

	mu      sync.Mutex
	slots   int32   // table size
	next    int32   // slots below next have been handed out at least once
	free    []int32 // slots given back
	used    int     // slots holding a socket
	stopped bool    // the loop has ended: no new slots; closed once used is 0
}

// newRing sets up a ring and its sparse file table. ENOSYS/EPERM (no
// io_uring, or kernel.io_uring_disabled) come back wrapped for errors.Is.
func newRing(entries int) (*ring, error) {
	u, err := uring.New(uint32(entries), uring.SetupSubmitAll)
	if err != nil {
		return nil, err
	}
	slots := uint64(ringSlots)
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < slots {
		slots = lim.Cur
	}
	if err := u.RegisterSparseFiles(uint32(slots)); err != nil {
		u.Close()
		return nil, err
	}
	return &ring{Ring: u, slots: int32(slots)}, nil
}

// install puts fd in a free slot; -1 when none is free or the ring stopped.
func (r *ring) install(fd int) int32 {
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
	if r.UpdateFile(slot, int32(fd)) != nil {
		r.free = append(r.free, slot)
		return -1
	}
	r.used++
	return slot
}

// release empties slot: the ring drops its reference to the socket.
func (r *ring) release(slot int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.UpdateFile(slot, -1) //nolint:errcheck // only EBADF/EINVAL, which cannot happen on a live ring
	r.free = append(r.free, slot)
	r.used--
	r.closeIfDone()
}

// stop is called by the loop when it ends: the ring goes once no
// connection holds a slot (their sockets are written by goroutines now).
func (r *ring) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	r.closeIfDone()
}

func (r *ring) closeIfDone() {
	if r.stopped && r.used == 0 {
		r.Close() // idempotent, so no flag of our own
	}
}

// attach installs the wire's socket in r's file table, if r is set and a
// slot is free; without a slot the wire is written with write(2).
func (w *Wire) attach(r *ring) {
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
	iov    []unix.Iovec
	msg    unix.Msghdr
}

// ringState is a writer loop's io_uring state.
type ringState struct {
	r    *ring
	ops  []ringOp  // len entries, never reallocated: &ops[i].msg stays put
	res  []int32   // CQE result per op
	cur  []*Client // clients of the next round
	next []*Client // clients whose send went out whole: drain them again
}

func newRingState(r *ring) *ringState {
	return &ringState{r: r, ops: make([]ringOp, r.Entries()), res: make([]int32, r.Entries())}
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
	sqe := uring.SQE{Flags: uring.SQEFixedFile, Fd: op.c.wire.slot,
		MsgFlags: unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL, UserData: uint64(i)}
	if len(op.frames) == 1 {
		b := op.frames[0].data
		sqe.Opcode, sqe.Addr, sqe.Len = uring.OpSend, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint32(len(b))
	} else {
		op.iov = op.iov[:0]
		for _, f := range op.frames {
			v := unix.Iovec{Base: unsafe.SliceData(f.data)}
			v.SetLen(len(f.data))
			op.iov = append(op.iov, v)
		}
		op.msg = unix.Msghdr{Iov: unsafe.SliceData(op.iov)}
		op.msg.SetIovlen(len(op.iov))
		sqe.Opcode, sqe.Addr, sqe.Len = uring.OpSendmsg, uint64(uintptr(unsafe.Pointer(&op.msg))), 1
	}
	*rs.r.Next(i) = sqe
}

// submit hands the k prepared SQEs to the kernel and waits for all k
// completions, so nothing is in flight when it returns: the frames, iovecs
// and msghdrs the SQEs point at are Go heap memory (which does not move)
// reachable from rs.ops until then. The results land in rs.res.
func (rs *ringState) submit(k int) {
	r := rs.r
	r.Publish(k)
	record := func(userData uint64, res int32) { rs.res[userData] = res }
	for reaped := 0; reaped < k; {
		if err := r.Enter(k - reaped); err != nil {
			// EBADF, EFAULT, EINVAL…: not on a live ring with SQEs built
			// here. The SQEs point at memory the loop would reuse, so it
			// can neither drop them nor go on.
			panic(fmt.Sprintf("hub: io_uring_enter: %v", err))
		}
		reaped += r.Reap(record)
	}
	runtime.KeepAlive(rs.ops)
}

// setupRings gives each writer a ring, or none at all if one fails.
func setupRings(ws []*writer, entries int) error {
	rings := make([]*ring, 0, len(ws))
	for range ws {
		r, err := newRing(entries)
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
