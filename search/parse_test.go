package search

import (
	"slices"
	"strings"
	"testing"
	"time"

	"instainstru/market"
)

// testSearchIndex is a small vocabulary with the traps of the real one
// (shared words, surnames that are areas, a synonym of a missing service).
func testSearchIndex() *Index {
	return NewIndex(Vocab{
		Services: []VocabService{
			{ID: "s-piano", Slug: "piano", Name: "Piano", Category: "Music"},
			{ID: "s-violin", Slug: "violin", Name: "Violin", Category: "Music"},
			{ID: "s-ag", Slug: "acoustic-guitar", Name: "Acoustic Guitar", Category: "Music"},
			{ID: "s-jg", Slug: "jazz-guitar", Name: "Jazz Guitar", Category: "Music"},
			{ID: "s-jd", Slug: "jazz-dance", Name: "Jazz Dance", Category: "Dance"},
			{ID: "s-cs", Slug: "conversational-spanish", Name: "Conversational Spanish", Category: "Languages"},
			{ID: "s-chem", Slug: "chemistry", Name: "Chemistry", Category: "Academic Tutoring"},
			{ID: "s-apchem", Slug: "ap-chemistry", Name: "AP Chemistry", Category: "Test Prep"},
			{ID: "s-bjj", Slug: "brazilian-jiu-jitsu", Name: "Brazilian Jiu-Jitsu", Category: "Fitness"},
			{ID: "s-pt", Slug: "personal-training", Name: "Personal Training", Category: "Fitness"},
			{ID: "s-satm", Slug: "sat-math", Name: "SAT Math", Category: "Test Prep"},
			{ID: "s-kyoga", Slug: "kids-yoga", Name: "Kids Yoga", Category: "Wellness"},
		},
		Synonyms: map[string][]string{
			"guitar":  {"acoustic-guitar", "jazz-guitar"},
			"spanish": {"conversational-spanish"},
			"chem":    {"chemistry", "ap-chemistry"},
			"bjj":     {"brazilian-jiu-jitsu"},
			"trainer": {"personal-training"},
			"sat":     {"sat-math"},
			"ghost":   {"no-such-service"},
		},
		Areas: []VocabArea{
			{Name: "Williamsburg", Borough: "Brooklyn"},
			{Name: "Park Slope", Borough: "Brooklyn"},
			{Name: "Brooklyn Heights", Borough: "Brooklyn"},
			{Name: "Upper West Side", Borough: "Manhattan", Aliases: []string{"UWS"}},
			{Name: "Harlem", Borough: "Manhattan"},
			{Name: "Hell's Kitchen", Borough: "Manhattan", Aliases: []string{"Hells Kitchen"}},
			{Name: "Astoria", Borough: "Queens"},
		},
		Instructors: []VocabInstructor{
			{ID: "i-sarah", FullName: "Sarah Chen"},
			{ID: "i-luca", FullName: "Luca Park"},
		},
	})
}

func slugs(q market.SearchQuery) []string {
	var out []string
	for _, s := range q.Services {
		out = append(out, s.Slug)
	}
	slices.Sort(out)
	return out
}

func areaNames(q market.SearchQuery) []string {
	var out []string
	for _, a := range q.Areas {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

func TestParseUnderstandsServicesAreasAndGrammar(t *testing.T) {
	ix := testSearchIndex()
	tests := []struct {
		name      string
		q         string
		services  []string
		areas     []string
		price     int
		days      []time.Weekday
		scope     market.DateScope
		tod       string
		duration  int
		levels    []string
		unmatched []string
	}{
		{name: "exact service name", q: "piano lessons", services: []string{"piano"}},
		{name: "synonym expands to every guitar", q: "guitar", services: []string{"acoustic-guitar", "jazz-guitar"}},
		{name: "longest phrase wins over its words", q: "jazz guitar", services: []string{"jazz-guitar"}},
		{name: "abbreviation", q: "chem tutor", services: []string{"ap-chemistry", "chemistry"}},
		{name: "name word finds every service with it", q: "chemistry", services: []string{"ap-chemistry", "chemistry"}},
		{name: "bjj", q: "bjj classes", services: []string{"brazilian-jiu-jitsu"}},
		{name: "hyphenated service name typed with a space", q: "brazilian jiu jitsu", services: []string{"brazilian-jiu-jitsu"}},
		{name: "trainer", q: "a trainer", services: []string{"personal-training"}},
		{name: "typo doubled letter", q: "pianno", services: []string{"piano"}},
		{name: "typo dropped letter", q: "violn", services: []string{"violin"}},
		{name: "typo dropped letter in a synonym", q: "spansh", services: []string{"conversational-spanish"}},
		{name: "typo transposition", q: "gutiar", services: []string{"acoustic-guitar", "jazz-guitar"}},
		{name: "plural", q: "pianos", services: []string{"piano"}},
		{name: "accents fold", q: "PIÁNO", services: []string{"piano"}},
		{name: "neighbourhood", q: "piano in harlem", services: []string{"piano"}, areas: []string{"Harlem"}},
		{name: "borough expands to its areas", q: "guitar lessons in brooklyn under $80",
			services: []string{"acoustic-guitar", "jazz-guitar"}, areas: []string{"Brooklyn Heights", "Park Slope", "Williamsburg"}, price: 8000},
		{name: "area longer than its borough", q: "brooklyn heights", areas: []string{"Brooklyn Heights"}},
		{name: "alias", q: "violin uws", services: []string{"violin"}, areas: []string{"Upper West Side"}},
		{name: "apostrophe", q: "hell's kitchen", areas: []string{"Hell's Kitchen"}},
		{name: "price in words", q: "spanish less than 100 dollars", services: []string{"conversational-spanish"}, price: 10000},
		{name: "price with max", q: "piano max 90", services: []string{"piano"}, price: 9000},
		{name: "price after the number", q: "piano $75/hr or less", services: []string{"piano"}, price: 7500},
		{name: "cheap is not a number", q: "cheap piano", services: []string{"piano"}, unmatched: []string{"cheap"}},
		{name: "day and part of day", q: "piano saturday morning", services: []string{"piano"},
			days: []time.Weekday{time.Saturday}, tod: "morning"},
		{name: "weekday evenings", q: "weekday evenings violin", services: []string{"violin"},
			days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, tod: "evening"},
		{name: "this weekend", q: "bjj this weekend", services: []string{"brazilian-jiu-jitsu"},
			days: []time.Weekday{time.Sunday, time.Saturday}, scope: market.ScopeThisWeek},
		{name: "tonight", q: "piano tonight", services: []string{"piano"}, scope: market.ScopeToday, tod: "evening"},
		{name: "clock time", q: "piano 6pm", services: []string{"piano"}, tod: "evening"},
		{name: "duration", q: "30 minute piano lesson", services: []string{"piano"}, duration: 30},
		{name: "duration glued", q: "piano 45min", services: []string{"piano"}, duration: 45},
		{name: "duration in hours", q: "1.5 hours violin", services: []string{"violin"}, duration: 90},
		{name: "sat is the test", q: "sat prep", services: []string{"sat-math"}},
		{name: "level words", q: "piano for kids", services: []string{"piano"}, levels: []string{"kids"}},
		{name: "service named with a level word", q: "kids yoga", services: []string{"kids-yoga"}},
		{name: "beginner", q: "beginner violin", services: []string{"violin"}, levels: []string{"beginner"}},
		{name: "category", q: "music", services: []string{"acoustic-guitar", "jazz-guitar", "piano", "violin"}},
		{name: "nonsense", q: "asdfgh qwerty", unmatched: []string{"asdfgh", "qwerty"}},
		{name: "synonym of an unknown service matches nothing", q: "ghost", unmatched: []string{"ghost"}},
		{name: "emoji and symbols are separators", q: "🎹 piano!!! %_", services: []string{"piano"}},
		{name: "sql metacharacters", q: "piano'; DROP TABLE users; --", services: []string{"piano"},
			unmatched: []string{"DROP", "TABLE", "users"}},
		{name: "rtl text is unmatched", q: "بيانو", unmatched: []string{"بيانو"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ix.Parse(tc.q)
			if s := slugs(got); !slices.Equal(s, tc.services) {
				t.Errorf("services = %v, want %v", s, tc.services)
			}
			if a := areaNames(got); !slices.Equal(a, tc.areas) {
				t.Errorf("areas = %v, want %v", a, tc.areas)
			}
			if got.MaxPriceCents != tc.price {
				t.Errorf("price = %d, want %d", got.MaxPriceCents, tc.price)
			}
			want := slices.Clone(tc.days)
			slices.Sort(want)
			if !slices.Equal(got.Days, want) {
				t.Errorf("days = %v, want %v", got.Days, want)
			}
			if got.Scope != tc.scope {
				t.Errorf("scope = %v, want %v", got.Scope, tc.scope)
			}
			if got.TimeOfDay != tc.tod {
				t.Errorf("time of day = %q, want %q", got.TimeOfDay, tc.tod)
			}
			if got.DurationMinutes != tc.duration {
				t.Errorf("duration = %d, want %d", got.DurationMinutes, tc.duration)
			}
			if !slices.Equal(got.Levels, tc.levels) {
				t.Errorf("levels = %v, want %v", got.Levels, tc.levels)
			}
			if !slices.Equal(got.Unmatched, tc.unmatched) {
				t.Errorf("unmatched = %q, want %q", got.Unmatched, tc.unmatched)
			}
		})
	}
}

func TestParseNamesAnInstructorOnlyWhenTheWordMeansNothingElse(t *testing.T) {
	ix := testSearchIndex()
	got := ix.Parse("sarah chen")
	if len(got.Instructors) == 0 || got.Instructors[0].InstructorID != "i-sarah" || got.Instructors[0].Weight != 1 {
		t.Fatalf("instructors = %+v, want Sarah Chen first with weight 1", got.Instructors)
	}
	if len(got.Services) != 0 || len(got.Unmatched) != 0 {
		t.Fatalf("a name must not turn into services (chen ≠ chem) or unmatched: %+v", got)
	}
	got = ix.Parse("park slope")
	if len(got.Instructors) != 0 || !slices.Equal(areaNames(got), []string{"Park Slope"}) {
		t.Fatalf("park slope = %+v, want the area, not Luca Park", got)
	}
}

func TestParseChipsQuoteTheQueryVerbatim(t *testing.T) {
	ix := testSearchIndex()
	q := "Guitar in Brooklyn under $80 on Saturday"
	got := ix.Parse(q)
	var sources []string
	for _, c := range got.Chips {
		if !strings.Contains(q, c.Source) {
			t.Errorf("chip source %q is not in the query", c.Source)
		}
		sources = append(sources, c.Kind+":"+c.Source)
	}
	slices.Sort(sources)
	want := []string{"area:Brooklyn", "day:Saturday", "price:under $80", "service:Guitar"}
	if !slices.Equal(sources, want) {
		t.Fatalf("chips = %v, want %v", sources, want)
	}
	if !slices.Equal(got.Boroughs, []string{"Brooklyn"}) {
		t.Fatalf("boroughs = %v", got.Boroughs)
	}
}

func TestParseRecordsTypoCorrectionsAndWeighsThemLower(t *testing.T) {
	ix := testSearchIndex()
	got := ix.Parse("pianno")
	if got.Corrections["pianno"] != "piano" {
		t.Fatalf("corrections = %v", got.Corrections)
	}
	if w := got.Services[0].Weight; w >= 1 {
		t.Fatalf("a corrected match weighs %v, want < 1", w)
	}
}
