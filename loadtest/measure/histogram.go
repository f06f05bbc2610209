package measure

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram is a log-linear (HDR-style) latency histogram of durations in
// nanoseconds: values below 128 ns are exact and every power of two above is
// split into 64 buckets, so any recorded value is reported within 1.6%. It
// is safe for concurrent use without locks (one atomic add per Record), which
// matters when ten thousand reader goroutines record at once.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Int64
	min    atomic.Int64 // 0 = unset; values are stored +1 so 0 ns still counts
	max    atomic.Int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // exact values below this
	histHalf    = histSub / 2
	histMaxBits = 41 // ~36 minutes in ns; larger values are clamped
	histBuckets = (histMaxBits-histSubBits+2)*histHalf + histHalf
)

// histIndex maps a value to its bucket.
func histIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	if v >= 1<<histMaxBits {
		v = 1<<histMaxBits - 1
	}
	shift := bits.Len64(uint64(v)) - histSubBits
	return (shift+1)*histHalf + int(v>>uint(shift)) - histHalf
}

// histUpper is the largest value that maps to bucket i.
func histUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histHalf - 1
	sub := int64(i%histHalf + histHalf)
	return (sub+1)<<uint(shift) - 1
}

// histLower is the smallest value that maps to bucket i.
func histLower(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histHalf - 1
	sub := int64(i%histHalf + histHalf)
	return sub << uint(shift)
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && v+1 >= m) || h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the smallest recorded value (exact), 0 when empty.
func (h *Histogram) Min() time.Duration {
	m := h.min.Load()
	if m == 0 {
		return 0
	}
	return time.Duration(m - 1)
}

// Mean is the arithmetic mean, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / int64(n))
}

// Quantile returns the value at or below which a fraction q of the recorded
// values lie, reported as the upper edge of its bucket (never above Max), as
// HdrHistogram does, so a reported p99 is never optimistic.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if cum >= rank {
			v := histUpper(i)
			if m := h.max.Load(); v > m {
				v = m
			}
			return time.Duration(v)
		}
	}
	return h.Max()
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(o.total.Load())
	h.sum.Add(o.sum.Load())
	if o.total.Load() > 0 {
		omax, omin := o.max.Load(), o.min.Load()
		for {
			m := h.max.Load()
			if omax <= m || h.max.CompareAndSwap(m, omax) {
				break
			}
		}
		for {
			m := h.min.Load()
			if (m != 0 && omin >= m) || h.min.CompareAndSwap(m, omin) {
				break
			}
		}
	}
}

// Bucket is one non-empty bucket: values in [Low, High] ns were seen Count times.
type Bucket struct {
	Low   int64  `json:"low_ns"`
	High  int64  `json:"high_ns"`
	Count uint64 `json:"count"`
}

// Buckets lists the non-empty buckets in increasing order.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			out = append(out, Bucket{Low: histLower(i), High: histUpper(i), Count: c})
		}
	}
	return out
}

// histJSON is the wire form: summary figures for readers plus the buckets,
// so a parent process can merge its children's histograms exactly.
type histJSON struct {
	Count   uint64   `json:"count"`
	MinNS   int64    `json:"min_ns"`
	MeanNS  int64    `json:"mean_ns"`
	P50NS   int64    `json:"p50_ns"`
	P90NS   int64    `json:"p90_ns"`
	P99NS   int64    `json:"p99_ns"`
	P999NS  int64    `json:"p999_ns"`
	MaxNS   int64    `json:"max_ns"`
	SumNS   int64    `json:"sum_ns"`
	Buckets []Bucket `json:"buckets"`
}

// MarshalJSON writes the summary and the non-empty buckets.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	return json.Marshal(histJSON{
		Count: h.Count(), MinNS: int64(h.Min()), MeanNS: int64(h.Mean()),
		P50NS: int64(h.Quantile(0.50)), P90NS: int64(h.Quantile(0.90)),
		P99NS: int64(h.Quantile(0.99)), P999NS: int64(h.Quantile(0.999)),
		MaxNS: int64(h.Max()), SumNS: h.sum.Load(), Buckets: h.Buckets(),
	})
}

// UnmarshalJSON restores a histogram written by MarshalJSON.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var n uint64
	for _, bk := range j.Buckets {
		i := histIndex(bk.Low)
		if histLower(i) != bk.Low {
			return fmt.Errorf("histogram: bucket low %d is not a bucket edge", bk.Low)
		}
		h.counts[i].Store(bk.Count)
		n += bk.Count
	}
	if n != j.Count {
		return fmt.Errorf("histogram: buckets hold %d values, count says %d", n, j.Count)
	}
	h.total.Store(j.Count)
	h.sum.Store(j.SumNS)
	h.max.Store(j.MaxNS)
	if j.Count > 0 {
		h.min.Store(j.MinNS + 1)
	}
	return nil
}
