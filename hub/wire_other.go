//go:build !linux

package hub

import "net"

// rawWriter is Linux-only; elsewhere every batch is written by a goroutine.
type rawWriter interface {
	tryWrite(s *writeScratch) (int, error)
}

type writeScratch struct{ bufs [][]byte }

func newWriteScratch() *writeScratch { return &writeScratch{} }

func newRawWriter(net.Conn) rawWriter { return nil }
