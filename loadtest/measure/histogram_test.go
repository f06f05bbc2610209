package measure

import (
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogramBucketsCoverEveryValueWithinPrecision(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 999_999, 1 << 30, 1<<40 + 12345} {
		i := histIndex(v)
		lo, hi := histLower(i), histUpper(i)
		if v < lo || v > hi {
			t.Errorf("value %d: bucket %d is [%d,%d], does not hold it", v, i, lo, hi)
		}
		if v >= histSub && float64(hi-lo) > float64(lo)/float64(histHalf) {
			t.Errorf("value %d: bucket [%d,%d] wider than 1/%d of its value", v, lo, hi, histHalf)
		}
		if i >= histBuckets {
			t.Errorf("value %d: index %d beyond %d buckets", v, i, histBuckets)
		}
	}
	for i := 1; i < histIndex(1<<histMaxBits-1); i++ {
		if histLower(i) != histUpper(i-1)+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d: buckets must tile", i, histLower(i), histUpper(i-1))
		}
	}
}

func TestHistogramQuantilesOfUniformValuesAreWithinOnePointSixPercent(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100_000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 50 * time.Millisecond},
		{0.9, 90 * time.Millisecond},
		{0.99, 99 * time.Millisecond},
		{0.999, 99900 * time.Microsecond},
		{1, 100 * time.Millisecond},
	}
	for _, c := range cases {
		got := h.Quantile(c.q)
		if got < c.want || float64(got-c.want) > 0.016*float64(c.want) {
			t.Errorf("q%.3f = %v, want %v..+1.6%% (never below the true value)", c.q, got, c.want)
		}
	}
	if h.Max() != 100*time.Millisecond || h.Min() != time.Microsecond || h.Count() != 100_000 {
		t.Errorf("max %v min %v count %d", h.Max(), h.Min(), h.Count())
	}
	if mean := h.Mean(); math.Abs(float64(mean-50000500*time.Nanosecond)) > 1000 {
		t.Errorf("mean %v", mean)
	}
}

func TestHistogramEmptyReportsZeros(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 || len(h.Buckets()) != 0 {
		t.Fatal("empty histogram reports non-zero figures")
	}
}

func TestHistogramZeroValueCountsAsMinimum(t *testing.T) {
	var h Histogram
	h.Record(5 * time.Millisecond)
	h.Record(0)
	if h.Min() != 0 || h.Count() != 2 {
		t.Fatalf("min %v count %d, want 0 and 2", h.Min(), h.Count())
	}
}

func TestHistogramConcurrentRecordsAreAllCounted(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10_000 {
				h.Record(time.Duration(g*10_000+i) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	if h.Count() != 80_000 || h.Max() != 79_999*time.Microsecond {
		t.Fatalf("count %d max %v", h.Count(), h.Max())
	}
}

func TestHistogramJSONRoundTripAndMergeKeepEveryValue(t *testing.T) {
	var a, b Histogram
	for i := 1; i <= 1000; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i) * time.Microsecond)
	}
	raw, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Count() != a.Count() || back.Quantile(0.99) != a.Quantile(0.99) || back.Max() != a.Max() || back.Min() != a.Min() {
		t.Fatalf("round trip changed figures: %s", raw)
	}
	back.Merge(&b)
	if back.Count() != 2000 || back.Min() != time.Microsecond || back.Max() != time.Second {
		t.Fatalf("merge: count %d min %v max %v", back.Count(), back.Min(), back.Max())
	}
	if q := back.Quantile(0.5); q > time.Millisecond+time.Millisecond/50 {
		t.Fatalf("merged median %v, want about 1ms", q)
	}
	if err := json.Unmarshal([]byte(`{"count":5,"buckets":[{"low_ns":1,"high_ns":1,"count":1}]}`), &back); err == nil {
		t.Fatal("a histogram whose buckets do not add up to its count was accepted")
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * time.Microsecond)
	}
}
