package measure

import (
	"fmt"
	"time"
)

// FmtDur prints a latency compactly with three significant digits.
func FmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// ParseTS parses an event's commit timestamp (RFC 3339, any fraction).
func ParseTS(ts []byte) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, string(ts))
}
