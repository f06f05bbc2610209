package search

import "testing"

func TestOSADistanceCountsTranspositionsAsOneEdit(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"gutiar", "guitar", 1}, {"violn", "violin", 1}, {"piano", "piano", 0}, {"abc", "xyz", 3}} {
		if got := osaDistance(tc.a, tc.b, 3); got != tc.want {
			t.Errorf("osa(%q,%q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
