package store_test

import (
	"context"
	"slices"
	"testing"

	"instainstru/market"
)

func TestProfileAreasMustBeNeighbourhoodsOfTheSearchTable(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	in, _ := w.instructor(market.DefaultTimezone)
	update := func(areas ...string) (*market.Instructor, error) {
		return w.db.UpdateInstructorProfile(ctx, in, market.ProfileUpdate{
			Bio: "b", Areas: areas, Timezone: market.DefaultTimezone, CancellationNoticeHours: 24})
	}

	for _, tc := range []struct {
		name  string
		given []string
		want  []string
	}{
		{"names as listed", []string{"Astoria", "Hell's Kitchen"}, []string{"Astoria", "Hell's Kitchen"}},
		{"aliases and any case, once each", []string{"LIC", "long island city", "uws", "DUMBO"}, []string{"Long Island City", "Upper West Side", "DUMBO"}},
		{"accents ignored", []string{"Wíllíamsburg"}, []string{"Williamsburg"}},
		{"none", nil, []string{}},
	} {
		got, err := update(tc.given...)
		if err != nil || !slices.Equal(got.Areas, tc.want) {
			t.Errorf("%s: areas %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}

	if _, err := update("Astoria"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"Atlantis"}, {"Astoria", "Brooklyn"}, {"Astoria", "Astoria Park"}} {
		_, err := update(bad...)
		var e *market.Error
		if market.ErrorCode(err) != market.EVALIDATION || !asError(err, &e) || e.Details["areas["+string(rune('0'+len(bad)-1))+"]"] == nil {
			t.Errorf("%v: %v, want EVALIDATION naming the unknown area", bad, err)
		}
		got, err := w.db.InstructorByID(ctx, in, true)
		if err != nil || !slices.Equal(got.Areas, []string{"Astoria"}) {
			t.Errorf("%v: refused update left areas %v (%v)", bad, got.Areas, err)
		}
	}
}

func TestAreasAreGroupedByBorough(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	areas, err := w.db.Areas(context.Background())
	noErr(t, err)
	if len(areas) < 40 || areas[0].Borough != "Manhattan" || areas[len(areas)-1].Borough != "New Jersey" {
		t.Fatalf("areas %+v", areas)
	}
	for i := 1; i < len(areas); i++ {
		if a, b := areas[i-1], areas[i]; a.Borough == b.Borough && a.Name >= b.Name {
			t.Fatalf("%q before %q in %s", a.Name, b.Name, a.Borough)
		}
	}
}
