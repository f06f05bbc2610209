//go:build linux

package floor

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"instainstru/internal/uring"
)

// An io_uring writer for the syscall floor (floor_linux.go): the same
// sockets and reader, but the writer queues one send per socket in a
// submission ring and hands the kernel a ring-full per io_uring_enter
// instead of making one write(2) each. That is the only way below the
// write(2) floor: fewer syscalls per delivery. The ring is internal/uring
// (raw syscalls against the kernel ABI), as in the hub's send path.

// uringSetupFlags are the -uring-flags choices. SUBMIT_ALL is always set.
var uringSetupFlags = map[string]uint32{
	"defer": uring.SetupSingleIssuer | uring.SetupDeferTaskrun,
	"coop":  uring.SetupCoopTaskrun,
	"none":  0,
}

// floorRing is the writer's io_uring and what the floor's line reports.
type floorRing struct {
	ring    *uring.Ring
	flags   uint32 // setup flags the ring was made with
	entries int    // SQ ring size: the most sends per io_uring_enter
	enters  int    // io_uring_enter calls made
}

// newFloorRing sets up a ring of entries SQEs (the kernel rounds up to a
// power of two). ENOSYS or EPERM (io_uring compiled out or disabled by
// kernel.io_uring_disabled) come back wrapped, for errors.Is.
func newFloorRing(entries int, flagName string) (*floorRing, error) {
	setup, ok := uringSetupFlags[flagName]
	if !ok {
		return nil, fmt.Errorf("floor: -uring-flags %q: want defer, coop or none", flagName)
	}
	if entries <= 0 {
		return nil, errors.New("floor: -uring-entries must be > 0")
	}
	flags := setup | uring.SetupSubmitAll
	r, err := uring.New(uint32(entries), flags)
	if err != nil {
		return nil, fmt.Errorf("floor: io_uring unavailable (%d entries, %s): %w", entries, flagName, err)
	}
	return &floorRing{ring: r, flags: flags, entries: r.Entries()}, nil
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
		for j, fd := range batch {
			*r.ring.Next(j) = uring.SQE{Opcode: uring.OpSend, Fd: int32(fd),
				Addr: buf, Len: uint32(len(frame)), MsgFlags: unix.MSG_NOSIGNAL, UserData: uint64(i + j)}
		}
		r.ring.Publish(len(batch)) // hands the SQEs to the kernel
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
		r.enters++
		if err := r.ring.Enter(k - reaped); err != nil {
			return fmt.Errorf("floor: io_uring_enter: %w", err)
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
	n := r.ring.Reap(func(userData uint64, res int32) {
		if res != int32(want) && err == nil {
			if res < 0 {
				err = fmt.Errorf("floor: io_uring send to fd %d: %w", fds[userData], syscall.Errno(-res))
			} else {
				err = fmt.Errorf("floor: io_uring send to fd %d: short send, %d of %d B", fds[userData], res, want)
			}
		}
	})
	return n, err
}

func (r *floorRing) close() { r.ring.Close() }

// String is the ring as the floor's line reports it.
func (r *floorRing) String() string {
	var names []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{uring.SetupSingleIssuer, "SINGLE_ISSUER"}, {uring.SetupDeferTaskrun, "DEFER_TASKRUN"},
		{uring.SetupCoopTaskrun, "COOP_TASKRUN"}, {uring.SetupSubmitAll, "SUBMIT_ALL"}} {
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
