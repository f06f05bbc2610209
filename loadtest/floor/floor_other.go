//go:build !linux

package floor

import "errors"

// MeasureFloorMode needs epoll; elsewhere the fanout scenario runs without it.
func MeasureFloorMode(n, rounds int, opt FloorOptions) (*FloorStats, error) {
	return nil, errors.New("floor: the syscall floor is measured on Linux only")
}
