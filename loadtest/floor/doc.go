// Package floor measures the fan-out syscall floor: one 180-byte frame to
// each of N loopback sockets, with one write(2) per socket or batched
// through io_uring, and what the writer and reader threads spend per
// delivery. It also raises the open-files limit every generator process
// needs (RaiseFDLimit) and reads the process's CPU time.
package floor
