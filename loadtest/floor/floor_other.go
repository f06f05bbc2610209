//go:build !linux

package floor

import "errors"

// MeasureMode needs epoll; elsewhere the fanout scenario runs without it.
func MeasureMode(n, rounds int, opt Options) (*Stats, error) {
	return nil, errors.New("floor: the syscall floor is measured on Linux only")
}
