package search

import (
	"slices"
	"testing"
)

// findIndex is a vocabulary with taught and untaught services and the
// nicknames of the search_place_nicknames table's kind.
func findIndex() *Index {
	return NewIndex(Vocab{
		Services: []VocabService{
			{ID: "s-piano", Slug: "piano", Name: "Piano", Category: "Music", Instructors: 2},
			{ID: "s-violin", Slug: "violin", Name: "Violin", Category: "Music", Instructors: 1},
			{ID: "s-viola", Slug: "viola", Name: "Viola", Category: "Music"},
			{ID: "s-cello", Slug: "cello", Name: "Cello", Category: "Music"},
			{ID: "s-cs", Slug: "conversational-spanish", Name: "Conversational Spanish", Category: "Languages", Instructors: 1},
			{ID: "s-fr", Slug: "french", Name: "French", Category: "Languages"},
		},
		Synonyms: map[string][]string{"spanish": {"conversational-spanish"}},
		Areas: []VocabArea{
			{Name: "Williamsburg", Borough: "Brooklyn"},
			{Name: "Park Slope", Borough: "Brooklyn"},
			{Name: "Lower East Side", Borough: "Manhattan", Aliases: []string{"LES"}},
			{Name: "Harlem", Borough: "Manhattan"},
			{Name: "Washington Heights", Borough: "Manhattan"},
			{Name: "Astoria", Borough: "Queens"},
			{Name: "Long Island City", Borough: "Queens"},
			{Name: "Riverdale", Borough: "Bronx"},
		},
		Nicknames: map[string][]string{
			"bk": {"Brooklyn"}, "bklyn": {"Brooklyn"}, "bx": {"Bronx"}, "wburg": {"Williamsburg"},
			"billyburg": {"Williamsburg"}, "uptown": {"Harlem", "Washington Heights"}, "lic": {"Long Island City"},
			"nowhere": {"Atlantis"},
		},
	})
}

func TestNicknamesReadAsTheirPlaces(t *testing.T) {
	ix := findIndex()
	for _, tc := range []struct {
		q, chip string
		areas   []string
		borough string
	}{
		{"piano bk", "Brooklyn", []string{"Park Slope", "Williamsburg"}, "Brooklyn"},
		{"piano BKLYN", "Brooklyn", []string{"Park Slope", "Williamsburg"}, "Brooklyn"},
		{"violin in the bx", "Bronx", []string{"Riverdale"}, "Bronx"},
		{"spanish wburg", "Williamsburg", []string{"Williamsburg"}, ""},
		{"piano billyburg", "Williamsburg", []string{"Williamsburg"}, ""},
		{"piano uptown", "Uptown", []string{"Harlem", "Washington Heights"}, ""},
		{"piano LIC", "Long Island City", []string{"Long Island City"}, ""},
		{"piano les", "Lower East Side", []string{"Lower East Side"}, ""},
	} {
		got := ix.Parse(tc.q)
		if a := areaNames(got); !slices.Equal(a, tc.areas) {
			t.Errorf("%q: areas = %v, want %v", tc.q, a, tc.areas)
		}
		var label string
		for _, c := range got.Chips {
			if c.Kind == "area" {
				label = c.Label
			}
		}
		if label != tc.chip {
			t.Errorf("%q: area chip = %q, want %q", tc.q, label, tc.chip)
		}
		if tc.borough != "" && !slices.Equal(got.Boroughs, []string{tc.borough}) {
			t.Errorf("%q: boroughs = %v, want [%s]", tc.q, got.Boroughs, tc.borough)
		}
	}
	if got := ix.Parse("nowhere"); len(got.Areas) != 0 {
		t.Errorf("a nickname of an unknown place must mean nothing: %+v", got.Areas)
	}
}

func TestDidYouMeanPrefersTaughtServices(t *testing.T) {
	ix := findIndex()
	for _, tc := range []struct{ q, typed, want string }{
		{"violn", "violn", "violin"},    // viola is as close, but nobody teaches it
		{"pianno", "pianno", "piano"},   // doubled letter
		{"spansh", "spansh", "spanish"}, // synonym of a taught service
		{"vilin lessons", "vilin", "violin"},
	} {
		got := ix.Parse(tc.q)
		if got.Corrections[tc.typed] != tc.want {
			t.Errorf("%q: corrections = %v, want %s → %s", tc.q, got.Corrections, tc.typed, tc.want)
		}
		if len(got.Services) == 0 || got.Services[0].InstructorCount == 0 {
			t.Errorf("%q: services = %+v, want a taught one first", tc.q, got.Services)
		}
	}
	exact := ix.ParseExact("violn")
	if len(exact.Corrections) != 0 || len(exact.Services) != 0 || !slices.Equal(exact.Unmatched, []string{"violn"}) {
		t.Errorf("ParseExact(violn) = %+v, want it unmatched and uncorrected", exact)
	}
	if got := ix.Parse("viola"); len(got.Services) != 1 || got.Services[0].Slug != "viola" || got.Services[0].InstructorCount != 0 {
		t.Errorf("viola typed right still means viola, untaught: %+v", got.Services)
	}
}

func TestDidYouMeanAmongEqualsPrefersMissingLetters(t *testing.T) {
	ix := NewIndex(Vocab{Services: []VocabService{
		{ID: "1", Slug: "violin", Name: "Violin", Category: "Music", Instructors: 1},
		{ID: "2", Slug: "viola", Name: "Viola", Category: "Music", Instructors: 1},
	}})
	if got := ix.Parse("violn"); got.Corrections["violn"] != "violin" {
		t.Fatalf("violn → %v, want violin (a dropped letter beats a changed one)", got.Corrections)
	}
}

func TestSuggestPutsUntaughtServicesLast(t *testing.T) {
	ix := findIndex()
	got := ix.Suggest("vio", 5)
	if len(got) != 2 || got[0].Text != "Violin" || got[1].Text != "Viola" {
		t.Fatalf("suggest vio = %+v, want Violin then Viola", got)
	}
	if got[0].Taught == nil || !*got[0].Taught || got[1].Taught == nil || *got[1].Taught {
		t.Fatalf("taught flags = %v, %v", got[0].Taught, got[1].Taught)
	}
}

func TestRelaxProposesTheNearestWiderSearches(t *testing.T) {
	ix := findIndex()
	queries := func(q string) []string {
		var out []string
		for _, r := range ix.Relax(q, ix.Parse(q)) {
			out = append(out, r.Kind+":"+r.Query)
		}
		return out
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"spanish in queens", []string{"area:spanish", "area:spanish in Bronx", "area:spanish in Brooklyn", "area:spanish in Manhattan"}},
		// One limit at a time, then the service in the area alone,
		// anywhere, the service alone; other boroughs only while the budget lasts.
		{"piano in astoria under $50 saturday", []string{
			"price:piano in astoria saturday", "time:piano in astoria under $50", "area:piano in Queens under $50 saturday",
			"only:piano in astoria", "area:piano under $50 saturday", "service:piano",
			"area:piano in Bronx under $50 saturday", "area:piano in Brooklyn under $50 saturday"}},
		{"viola", []string{"service:Piano", "service:Violin"}},
		// Nobody teaches cello anywhere: taught music here, then anywhere.
		{"cello in bk", []string{"service:Piano in bk", "service:Violin in bk", "service:Piano", "service:Violin"}},
		{"asdfgh", nil},
	} {
		if got := queries(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("Relax(%q) =\n %q\nwant\n %q", tc.q, got, tc.want)
		}
	}
	if n := len(ix.Relax("piano in astoria under $50 saturday 30 min", ix.Parse("piano in astoria under $50 saturday 30 min"))); n > MaxRelaxations {
		t.Errorf("%d relaxations, want at most %d", n, MaxRelaxations)
	}
}

func TestTyposOfFillerWordsAreDropped(t *testing.T) {
	ix := findIndex()
	got := ix.Parse("violin lesons")
	if len(got.Unmatched) != 0 || len(got.Words) != 0 || len(got.Services) != 1 {
		t.Fatalf("violin lesons = unmatched %v, words %v, services %+v", got.Unmatched, got.Words, got.Services)
	}
}
