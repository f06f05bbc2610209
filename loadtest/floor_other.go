//go:build !linux

package main

import "errors"

// measureFloor needs epoll; elsewhere the fanout scenario runs without it.
func measureFloor(n, rounds int) (*FloorStats, error) {
	return nil, errors.New("floor: the syscall floor is measured on Linux only")
}
