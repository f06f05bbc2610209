//go:build !linux

package hub

import "errors"

// io_uring is Linux-only: Options.IOUring falls back to write(2) elsewhere.
type ring struct{}

type ringState struct{ r *ring }

func (r *ring) stop() {}

func setupRings([]*writer, int) error { return errors.New("io_uring is Linux-only") }

func (w *Wire) attach(*ring) {}

func (w *Wire) detach() {}

func (w *writer) flushRing(batch []*Client) {
	for _, c := range batch {
		w.flush(c)
	}
}
