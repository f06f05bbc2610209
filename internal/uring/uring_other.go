//go:build !linux

package uring

import (
	"errors"
	"fmt"
)

// Ring is an io_uring; there is none outside Linux.
type Ring struct{}

var errUnsupported = fmt.Errorf("io_uring is Linux-only: %w", errors.ErrUnsupported)

// New fails outside Linux (errors.Is(err, errors.ErrUnsupported)).
func New(entries, flags uint32) (*Ring, error) { return nil, errUnsupported }

// The methods exist so that importers compile; New never returns a Ring.

func (r *Ring) Entries() int                                { return 0 }
func (r *Ring) Next(i int) *SQE                             { return nil }
func (r *Ring) Publish(k int)                               {}
func (r *Ring) Enter(minComplete int) error                 { return errUnsupported }
func (r *Ring) Reap(f func(userData uint64, res int32)) int { return 0 }
func (r *Ring) RegisterSparseFiles(n uint32) error          { return errUnsupported }
func (r *Ring) UpdateFile(slot, fd int32) error             { return errUnsupported }
func (r *Ring) Close()                                      {}
