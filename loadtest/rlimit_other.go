//go:build !unix

package main

// raiseFDLimit has nothing to raise on systems without rlimits; it reports
// a conservative figure.
func raiseFDLimit() (uint64, error) { return 8192, nil }

// cpuSeconds is unknown here.
func cpuSeconds() float64 { return 0 }
