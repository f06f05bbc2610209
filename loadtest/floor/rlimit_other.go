//go:build !unix

package floor

// RaiseFDLimit has nothing to raise on systems without rlimits; it reports
// a conservative figure.
func RaiseFDLimit() (uint64, error) { return 8192, nil }

// CPUSeconds is unknown here.
func CPUSeconds() float64 { return 0 }
