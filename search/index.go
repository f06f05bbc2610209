package search

import (
	"sort"
	"strings"
)

// Match weights: how sure the parser is that a phrase means a service.
const (
	weightExact    = 1.0  // the service's own name
	weightSynonym  = 0.95 // a listed synonym or abbreviation
	weightNameWord = 0.7  // one word of the service's name ("chemistry" → "AP Chemistry")
	weightCategory = 0.55 // the category's name ("dance" → every dance service)
	weightBorough  = 0.85 // an area inside a named borough
	typoFactor     = 0.9  // a match found through a typo correction
)

// VocabService is a catalog service as the parser knows it.
type VocabService struct {
	ID, Slug, Name, Category string
	// Instructors is how many instructors offer the service; 0 = nobody
	// teaches it (it is still understood, but corrections, suggestions and
	// relaxations lean towards services someone teaches).
	Instructors int
}

// VocabArea is an NYC area with its borough and other ways to write it.
type VocabArea struct {
	Name, Borough string
	Aliases       []string
}

// VocabInstructor is an instructor's name, so that a query can name one.
type VocabInstructor struct {
	ID, FullName string
}

// Vocab is everything the parser matches against; the store loads it
// from the database.
type Vocab struct {
	Services    []VocabService
	Synonyms    map[string][]string // folded term → service slugs
	Areas       []VocabArea
	Instructors []VocabInstructor
	// Nicknames are other names of places (data, from the database): a
	// folded term → area names or borough names ("bk" → Brooklyn, "uptown"
	// → Harlem, Washington Heights, …).
	Nicknames map[string][]string
}

// target is one meaning of a phrase.
type target struct {
	kind   string // service | area | instructor
	key    string // service slug, area name, instructor id
	weight float64
}

// Index is a vocabulary prepared for parsing: phrases by their folded
// words, and every known word for typo correction. Build it once per
// vocabulary load; it is read-only afterwards and safe for concurrent use.
type Index struct {
	phrases     map[string][]target // "jazz guitar" → targets
	maxWords    int
	services    map[string]VocabService // by slug
	areas       map[string]VocabArea    // by name
	suggestions []suggestEntry
	boroughs    map[string][]string // folded borough → area names
	words       map[string]bool     // every known word (vocabulary and grammar)
	typoWords   []typoWord          // candidates for correction
	boroughName map[string]string   // folded phrase naming a whole borough → its name
}

// NewIndex prepares v for parsing.
func NewIndex(v Vocab) *Index {
	ix := &Index{
		phrases:  map[string][]target{},
		services: map[string]VocabService{},
		areas:    map[string]VocabArea{},
		boroughs: map[string][]string{},
		words:    map[string]bool{},

		boroughName: map[string]string{},
	}
	ix.addServices(v.Services, v.Synonyms)
	ix.addAreas(v.Areas)
	ix.addNicknames(v.Nicknames)
	ix.addInstructors(v.Instructors)
	ix.addKnownWords()
	return ix
}

// addServices indexes each service by its name, the telling words of its
// name, its category's name and its synonyms (to services that exist).
func (ix *Index) addServices(services []VocabService, synonyms map[string][]string) {
	bySlug := map[string]bool{}
	categories := map[string][]string{}
	for _, s := range services {
		ix.services[s.Slug] = s
		bySlug[s.Slug] = true
		id := s.ID
		taught := s.Instructors > 0
		ix.addSuggestion("service", s.Name, &id)
		ix.suggestions[len(ix.suggestions)-1].s.Taught = &taught
		ix.add(s.Name, target{"service", s.Slug, weightExact})
		for _, w := range foldWords(s.Name) {
			if len(w) >= 3 && !isStopword(w) && !genericServiceWord[w] && levelOf(w) == "" && !isNumber(w) {
				ix.add(w, target{"service", s.Slug, weightNameWord})
			}
		}
		if s.Category != "" {
			categories[s.Category] = append(categories[s.Category], s.Slug)
		}
	}
	for cat, slugs := range categories {
		for _, slug := range slugs {
			ix.add(cat, target{"service", slug, weightCategory})
		}
	}
	for term, slugs := range synonyms {
		for _, slug := range slugs {
			if bySlug[slug] {
				ix.add(term, target{"service", slug, weightSynonym})
			}
		}
	}
}

// addAreas indexes each area by its name and aliases, and by its borough
// ("the bronx" too) at a lower weight.
func (ix *Index) addAreas(areas []VocabArea) {
	for _, a := range areas {
		ix.areas[a.Name] = a
		ix.addSuggestion("area", a.Name, nil)
		ix.add(a.Name, target{"area", a.Name, weightExact})
		for _, al := range a.Aliases {
			ix.add(al, target{"area", a.Name, weightExact})
		}
		b := strings.Join(foldWords(a.Borough), " ")
		ix.boroughs[b] = append(ix.boroughs[b], a.Name)
		ix.boroughName[b] = a.Borough
		ix.boroughName["the "+b] = a.Borough
	}
	boroughs := map[string]bool{}
	for _, a := range areas {
		if !boroughs[a.Borough] {
			boroughs[a.Borough] = true
			ix.addSuggestion("area", a.Borough, nil)
		}
	}
	for b, names := range ix.boroughs {
		for _, n := range names {
			ix.add(b, target{"area", n, weightBorough})
		}
	}
	if len(ix.boroughs["bronx"]) > 0 {
		for _, n := range ix.boroughs["bronx"] {
			ix.add("the bronx", target{"area", n, weightBorough})
		}
	}
}

// addInstructors indexes each instructor by full name, and by each name of
// 3+ letters at a lower weight.
func (ix *Index) addInstructors(instructors []VocabInstructor) {
	for _, in := range instructors {
		id := in.ID
		ix.addSuggestion("instructor", in.FullName, &id)
		ix.add(in.FullName, target{"instructor", in.ID, weightExact})
		for _, w := range foldWords(in.FullName) {
			if len(w) >= 3 {
				ix.add(w, target{"instructor", in.ID, 0.6})
			}
		}
	}
}

// addKnownWords completes the known words and the typo candidates. Typos
// are corrected towards vocabulary, days, parts of the day and levels,
// never towards price words ("cheap" stays unmatched).
func (ix *Index) addKnownWords() {
	for w := range dayWords {
		ix.words[w] = true
	}
	for w := range timeWords {
		ix.words[w] = true
	}
	for w := range levelWords {
		ix.words[w] = true
	}
	poor := ix.untaughtOnlyWords()
	for w := range ix.words {
		ix.typoWords = append(ix.typoWords, typoWord{w, trigrams(w), poor[w]})
	}
	for w := range grammarWords {
		ix.words[w] = true
	}
	// Stopwords are known (never "corrected") but never correction targets.
	for w := range stopwords {
		ix.words[w] = true
	}
	sort.Slice(ix.typoWords, func(i, j int) bool { return ix.typoWords[i].word < ix.typoWords[j].word })
}

// add records phrase → t, keeping the highest weight per target.
func (ix *Index) add(phrase string, t target) {
	ws := foldWords(phrase)
	if len(ws) == 0 {
		return
	}
	key := strings.Join(ws, " ")
	for _, w := range ws {
		if len(w) >= 3 && !isStopword(w) {
			ix.words[w] = true
		}
	}
	if len(ws) > ix.maxWords {
		ix.maxWords = len(ws)
	}
	list := ix.phrases[key]
	for i := range list {
		if list[i].kind == t.kind && list[i].key == t.key {
			if t.weight > list[i].weight {
				list[i].weight = t.weight
			}
			return
		}
	}
	ix.phrases[key] = append(list, t)
}
