// Package uring is the part of the io_uring kernel ABI
// (include/uapi/linux/io_uring.h) that the hub's send path
// (hub/uring_linux.go) and the loadtest floor's io_uring writer
// (loadtest/floor_uring_linux.go) use: setting a ring up and mapping it,
// filling and publishing SQEs, io_uring_enter, reaping CQEs, and a sparse
// table of fixed files. Raw syscalls: x/sys/unix has the syscall numbers
// but not the structs, and no third-party module is used.
//
// A Ring is not safe for concurrent use, except that the file-table calls
// (RegisterSparseFiles, UpdateFile) may run on another goroutine than the
// one submitting and reaping, as long as they are serialised among
// themselves. io_uring is Linux-only: elsewhere New fails.
package uring

import "unsafe"

// Kernel ABI constants.
const (
	OpSendmsg = 9  // IORING_OP_SENDMSG: sendmsg(2); SQE.Addr is the *msghdr, SQE.Len 1
	OpSend    = 26 // IORING_OP_SEND: send(2); SQE.Addr is the buffer, SQE.Len its length

	SQEFixedFile = 1 << 0 // IOSQE_FIXED_FILE: SQE.Fd is a slot of the ring's file table

	SetupSubmitAll    = 1 << 7  // IORING_SETUP_SUBMIT_ALL: a failed SQE does not stop the rest of the batch
	SetupCoopTaskrun  = 1 << 8  // IORING_SETUP_COOP_TASKRUN: completion work is not forced on us by an interrupt
	SetupSingleIssuer = 1 << 12 // IORING_SETUP_SINGLE_ISSUER: only the creating thread submits
	SetupDeferTaskrun = 1 << 13 // IORING_SETUP_DEFER_TASKRUN: completion work runs only when we wait for completions
)

// SQE is struct io_uring_sqe (64 bytes), with the unions named for how a
// send uses them.
type SQE struct {
	Opcode, Flags uint8 // OpSend or OpSendmsg; SQEFixedFile or 0
	ioprio        uint16
	Fd            int32 // the socket, or with SQEFixedFile its slot in the file table
	off           uint64
	Addr          uint64 // the buffer (OpSend) or the msghdr (OpSendmsg)
	Len           uint32
	MsgFlags      uint32
	UserData      uint64 // handed back with the result by Reap
	bufIndex      uint16
	personality   uint16
	spliceFDIn    int32
	addr3, pad    uint64
}

// cqe is struct io_uring_cqe (16 bytes).
type cqe struct {
	userData uint64
	res      int32 // bytes sent, or -errno
	flags    uint32
}

// Checked once against the kernel's sizes.
var _ = [1]struct{}{}[unsafe.Sizeof(SQE{})-64]
var _ = [1]struct{}{}[unsafe.Sizeof(cqe{})-16]
