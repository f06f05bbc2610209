package measure

import (
	"strconv"
	"strings"
)

// PromBuckets sums a Prometheus histogram's cumulative buckets by their
// upper bound over every other label: le (seconds) → count.
func PromBuckets(body []byte, name string) map[float64]float64 {
	out := map[float64]float64{}
	prefix := name + "_bucket{"
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.Index(line, `le="`)
		j := strings.LastIndexByte(line, '}')
		if i < 0 || j < i {
			continue
		}
		leStr := line[i+4:]
		leStr = leStr[:strings.IndexByte(leStr, '"')]
		le, err := strconv.ParseFloat(leStr, 64)
		if err != nil {
			continue
		}
		fields := strings.Fields(line[j+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err == nil {
			out[le] += v
		}
	}
	return out
}

// SumMetric sums every sample of name in a Prometheus text exposition.
func SumMetric(body []byte, name string) (float64, bool) {
	var sum float64
	found := false
	for _, f := range metricSamples(body, name) {
		sum += f
		found = true
	}
	return sum, found
}

// MaxMetric is the largest sample of name (0 when there is none).
func MaxMetric(body []byte, name string) float64 {
	m := 0.0
	for _, f := range metricSamples(body, name) {
		m = max(m, f)
	}
	return m
}

// metricSamples is every sample of name in a Prometheus text exposition,
// whatever its labels.
func metricSamples(body []byte, name string) []float64 {
	var out []float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue // a longer name with this prefix
		}
		if rest[0] == '{' {
			i := strings.LastIndexByte(rest, '}')
			if i < 0 {
				continue
			}
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		f, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out = append(out, f)
	}
	return out
}
