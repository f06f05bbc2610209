//go:build !linux

package hub

import "errors"

// io_uring is Linux-only: Options.IOUring falls back to write(2) elsewhere.
type uring struct{}

type ringState struct{ r *uring }

func (r *uring) stop() {}

func setupRings([]*writer) error { return errors.New("io_uring is Linux-only") }

func (w *Wire) attach(*uring) {}

func (w *Wire) detach() {}

func (w *writer) flushRing(batch []*Client) {
	for _, c := range batch {
		w.flush(c)
	}
}
