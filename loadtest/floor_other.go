//go:build !linux

package main

import "errors"

// measureFloorMode needs epoll; elsewhere the fanout scenario runs without it.
func measureFloorMode(n, rounds int, opt floorOptions) (*FloorStats, error) {
	return nil, errors.New("floor: the syscall floor is measured on Linux only")
}
