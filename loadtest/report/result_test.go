package report

import (
	"instainstru/loadtest/measure"
	"math"
	"testing"
)

func TestResultJudgeFailsOnLossDuplicationAndErrors(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Result)
		pass bool
	}{
		{"clean", func(*Result) {}, true},
		{"lost", func(r *Result) { r.Delivery.Lost = 1 }, false},
		{"dup", func(r *Result) { r.Delivery.Duplicated = 1 }, false},
		{"booking push lost", func(r *Result) { r.Delivery.BookingPushLost = 1 }, false},
		{"error", func(r *Result) { r.Errors["booking_http_500"] = 1 }, false},
		{"409s are normal", func(r *Result) { r.Bookings.Conflicts = 40; r.Notes["booking_409_slot_unavailable"] = 40 }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Result{Scenario: "smoke", Errors: map[string]int64{}, Notes: map[string]int64{}, Latency: measure.NewStats().Hist}
			r.Bookings.Created, r.Delivery.ReceivedEvents = 1, 1
			c.mod(r)
			r.Judge()
			if r.Pass != c.pass {
				t.Fatalf("pass %v, want %v (failures %v)", r.Pass, c.pass, r.Failures)
			}
		})
	}
}

func TestBucketQuantileInterpolatesAndFlagsOverflow(t *testing.T) {
	inf := math.Inf(1)
	bk := map[float64]float64{0.001: 50, 0.01: 90, 0.1: 100, inf: 100}
	if v, beyond := bucketQuantile(bk, 0.5); beyond || math.Abs(v-0.001) > 1e-9 {
		t.Errorf("p50 = %v %v, want 0.001", v, beyond)
	}
	if v, beyond := bucketQuantile(bk, 0.7); beyond || math.Abs(v-0.0055) > 1e-9 {
		t.Errorf("p70 = %v %v, want 0.0055 (linear inside the bucket)", v, beyond)
	}
	over := map[float64]float64{10: 10, inf: 100}
	if v, beyond := bucketQuantile(over, 0.99); !beyond || v != 10 {
		t.Errorf("p99 past the last bucket = %v %v, want 10 and beyond", v, beyond)
	}
	if v, beyond := bucketQuantile(map[float64]float64{}, 0.5); v != 0 || beyond {
		t.Errorf("empty = %v %v", v, beyond)
	}
}
