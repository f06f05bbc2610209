package search

import "testing"

func TestNormalizeQueryCollapsesCaseSpacesAndAccents(t *testing.T) {
	if a, b := NormalizeQuery("  Piano   in HÁRLEM "), NormalizeQuery("piano in harlem"); a != b || a != "piano in harlem" {
		t.Fatalf("%q vs %q", a, b)
	}
}
