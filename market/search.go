package market

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Natural-language search, parsing side. A query is folded (lower case, no
// accents), split into tokens, and read left to right against a vocabulary
// that the store loads from the database (catalog services, synonyms, NYC
// areas and boroughs, instructor names) plus the fixed words of this file
// (days, parts of the day, lesson lengths, price caps, level words).
//
// Typos: a token that is not a known word is replaced by the closest
// vocabulary word when it is close enough, by the same trigram similarity
// pg_trgm computes (padded 3-grams, |A∩B|/|A∪B|) or an optimal-string-
// alignment edit distance (one edit for words of 4+ letters, two for 7+),
// which catches transpositions ("gutiar") that trigrams miss. It runs in Go
// over the cached vocabulary (a few thousand words) so parsing needs no
// database round trip and stays unit-testable; the database still does the
// ranking and full-text relevance.

// MaxSearchQueryChars is the longest query accepted (422 beyond it).
const MaxSearchQueryChars = 200

// SearchHorizonDays is how far ahead next_open looks, today included.
const SearchHorizonDays = 14

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

// SearchVocab is everything the parser matches against; the store loads it
// from the database.
type SearchVocab struct {
	Services    []VocabService
	Synonyms    map[string][]string // folded term → service slugs
	Areas       []VocabArea
	Instructors []VocabInstructor
}

// ServiceMatch is a catalog service the query asks for.
type ServiceMatch struct {
	ID     string  `json:"id"`
	Slug   string  `json:"slug"`
	Name   string  `json:"name"`
	Weight float64 `json:"-"`
}

// AreaMatch is an area the query asks for; Weight is lower for an area that
// was matched only through its borough.
type AreaMatch struct {
	Name   string
	Weight float64
}

// NameMatch is an instructor the query names.
type NameMatch struct {
	InstructorID string
	Weight       float64
}

// DateScope narrows the days of a query to a stretch of the calendar, as
// seen from "today" in each instructor's timezone.
type DateScope int

// Date scopes.
const (
	ScopeAny      DateScope = iota // the whole horizon
	ScopeToday                     // "today", "tonight"
	ScopeTomorrow                  // "tomorrow"
	ScopeThisWeek                  // "this weekend", "this week": until the coming Sunday
	ScopeNextWeek                  // "next week", "next weekend": the following Monday–Sunday
)

// Chip is one thing the parser understood, with the exact text of the query
// it came from, so a client can remove that text to widen the search.
type Chip struct {
	Kind   string `json:"kind"`   // service | area | price | day | time | duration | level | instructor
	Label  string `json:"label"`  // what it was understood as
	Source string `json:"source"` // the words of the query, verbatim
}

// SearchQuery is a parsed query.
type SearchQuery struct {
	Services        []ServiceMatch
	Areas           []AreaMatch
	Boroughs        []string
	Instructors     []NameMatch
	MaxPriceCents   int // 0 = no cap
	Days            []time.Weekday
	Scope           DateScope
	TimeOfDay       string // morning | afternoon | evening | ""
	DurationMinutes int    // 0 = any
	Levels          []string
	// Words are the query's words the parser did not otherwise understand,
	// as letters and digits only; they are searched in bios and names.
	Words       []string
	Unmatched   []string
	Corrections map[string]string // typed → corrected
	Chips       []Chip
}

// Empty reports whether the query asks for nothing the search can use.
func (q *SearchQuery) Empty() bool {
	return len(q.Services) == 0 && len(q.Areas) == 0 && len(q.Instructors) == 0 && len(q.Days) == 0 &&
		q.TimeOfDay == "" && len(q.Levels) == 0 && len(q.Words) == 0 && q.MaxPriceCents == 0 && q.DurationMinutes == 0
}

// WantsTime reports whether the query says when (days, scope or time of day).
func (q *SearchQuery) WantsTime() bool {
	return len(q.Days) > 0 || q.Scope != ScopeAny || q.TimeOfDay != ""
}

// TimeRange is the local [start, end) in which a lesson must start for the
// query's time of day; the whole day when none was asked.
func (q *SearchQuery) TimeRange() (Clock, Clock) {
	switch q.TimeOfDay {
	case "morning":
		return 6 * 60, 12 * 60
	case "afternoon":
		return 12 * 60, 17 * 60
	case "evening":
		return 17 * 60, 23 * 60
	}
	return 0, 24 * 60
}

// Dates returns the local calendar dates (UTC midnights) within horizon days
// of today in loc that the query's days and scope allow, in order. "This
// weekend" on a Sunday morning in New York is that Sunday, whatever the
// server's zone.
func (q *SearchQuery) Dates(now time.Time, loc *time.Location, horizon int) []time.Time {
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	from, to := 0, horizon-1
	// Days until the coming Sunday (0 on a Sunday).
	toSunday := (7 - int(today.Weekday())) % 7
	switch q.Scope {
	case ScopeToday:
		to = 0
	case ScopeTomorrow:
		from, to = 1, 1
	case ScopeThisWeek:
		to = toSunday
	case ScopeNextWeek:
		from, to = toSunday+1, toSunday+7
	}
	if to > horizon-1 {
		to = horizon - 1
	}
	var out []time.Time
	for i := from; i <= to; i++ {
		day := today.AddDate(0, 0, i)
		if len(q.Days) == 0 || slices.Contains(q.Days, day.Weekday()) {
			out = append(out, day)
		}
	}
	return out
}

// Normalized is the query folded and with runs of spaces collapsed: two
// queries with the same normalized form are the same search (history keeps
// one row for them).
func NormalizeQuery(q string) string {
	toks := tokenize(q)
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		words = append(words, t.text)
	}
	return strings.Join(words, " ")
}

// SearchHit is one ranked instructor.
type SearchHit struct {
	InstructorID string        `json:"instructor_id"`
	FullName     string        `json:"full_name"`
	Areas        []string      `json:"areas"`
	Services     []SearchOffer `json:"services"` // the offers that match the query
	NextOpen     *NextOpen     `json:"next_open"`
	Score        float64       `json:"score"`
}

// SearchOffer is an offered service in a search result.
type SearchOffer struct {
	ID              string `json:"id"`
	ServiceID       string `json:"service_id"`
	Name            string `json:"name"`
	HourlyRateCents int    `json:"hourly_rate_cents"`
}

// NextOpen is the earliest open start that fits a query, in the
// instructor's timezone.
type NextOpen struct {
	Date  string `json:"date"`
	Start string `json:"start"`
}

// ---------- the index ----------

// target is one meaning of a phrase.
type target struct {
	kind   string // service | area | instructor
	key    string // service slug, area name, instructor id
	weight float64
}

// SearchIndex is a vocabulary prepared for parsing: phrases by their folded
// words, and every known word for typo correction. Build it once per
// vocabulary load; it is read-only afterwards and safe for concurrent use.
type SearchIndex struct {
	phrases     map[string][]target // "jazz guitar" → targets
	maxWords    int
	services    map[string]VocabService // by slug
	areas       map[string]VocabArea    // by name
	suggestions []suggestEntry
	boroughs    map[string][]string // folded borough → area names
	words       map[string]bool     // every known word (vocabulary and grammar)
	typoWords   []typoWord          // candidates for correction
}

type typoWord struct {
	word  string
	grams map[string]bool
}

// NewSearchIndex prepares v for parsing.
func NewSearchIndex(v SearchVocab) *SearchIndex {
	ix := &SearchIndex{
		phrases:  map[string][]target{},
		services: map[string]VocabService{},
		areas:    map[string]VocabArea{},
		boroughs: map[string][]string{},
		words:    map[string]bool{},
	}
	bySlug := map[string]bool{}
	categories := map[string][]string{}
	for _, s := range v.Services {
		ix.services[s.Slug] = s
		bySlug[s.Slug] = true
		id := s.ID
		ix.addSuggestion("service", s.Name, &id)
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
	for term, slugs := range v.Synonyms {
		for _, slug := range slugs {
			if bySlug[slug] {
				ix.add(term, target{"service", slug, weightSynonym})
			}
		}
	}
	for _, a := range v.Areas {
		ix.areas[a.Name] = a
		ix.addSuggestion("area", a.Name, nil)
		ix.add(a.Name, target{"area", a.Name, weightExact})
		for _, al := range a.Aliases {
			ix.add(al, target{"area", a.Name, weightExact})
		}
		b := strings.Join(foldWords(a.Borough), " ")
		ix.boroughs[b] = append(ix.boroughs[b], a.Name)
	}
	boroughs := map[string]bool{}
	for _, a := range v.Areas {
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
	for _, in := range v.Instructors {
		id := in.ID
		ix.addSuggestion("instructor", in.FullName, &id)
		ix.add(in.FullName, target{"instructor", in.ID, weightExact})
		for _, w := range foldWords(in.FullName) {
			if len(w) >= 3 {
				ix.add(w, target{"instructor", in.ID, 0.6})
			}
		}
	}
	// Typos are corrected towards vocabulary, days, parts of the day and
	// levels, never towards price words ("cheap" stays unmatched).
	for w := range dayWords {
		ix.words[w] = true
	}
	for w := range timeWords {
		ix.words[w] = true
	}
	for w := range levelWords {
		ix.words[w] = true
	}
	for w := range ix.words {
		ix.typoWords = append(ix.typoWords, typoWord{w, trigrams(w)})
	}
	for w := range grammarWords {
		ix.words[w] = true
	}
	// Stopwords are known (never "corrected") but never correction targets.
	for w := range stopwords {
		ix.words[w] = true
	}
	sort.Slice(ix.typoWords, func(i, j int) bool { return ix.typoWords[i].word < ix.typoWords[j].word })
	return ix
}

// add records phrase → t, keeping the highest weight per target.
func (ix *SearchIndex) add(phrase string, t target) {
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

// Suggestion is one completion offered while typing.
type Suggestion struct {
	Kind string  `json:"kind"` // service | area | instructor | recent
	Text string  `json:"text"`
	ID   *string `json:"id"`
}

// suggestEntry is a completion candidate, folded once when the index is built.
type suggestEntry struct {
	s      Suggestion
	folded string
	grams  []map[string]bool // per word, for close spellings
}

func (ix *SearchIndex) addSuggestion(kind, text string, id *string) {
	e := suggestEntry{s: Suggestion{Kind: kind, Text: text, ID: id}, folded: strings.Join(foldWords(text), " ")}
	for _, w := range strings.Fields(e.folded) {
		e.grams = append(e.grams, trigrams(w))
	}
	ix.suggestions = append(ix.suggestions, e)
}

// Suggest completes prefix over service, area, borough and instructor
// names: names starting with it first, then names with a word starting
// with it, then close spellings (prefixes of 4+ letters). At most limit.
func (ix *SearchIndex) Suggest(prefix string, limit int) []Suggestion {
	p := strings.Join(foldWords(prefix), " ")
	if p == "" || limit <= 0 {
		return nil
	}
	type cand struct {
		e    *suggestEntry
		rank int
		sim  float64
	}
	var cs []cand
	var pg map[string]bool
	for i := range ix.suggestions {
		e := &ix.suggestions[i]
		switch {
		case strings.HasPrefix(e.folded, p):
			cs = append(cs, cand{e, 0, 0})
		case strings.Contains(" "+e.folded, " "+p):
			cs = append(cs, cand{e, 1, 0})
		case len(p) >= 4:
			if pg == nil {
				pg = trigrams(p)
			}
			best := 0.0
			for _, g := range e.grams {
				best = max(best, jaccard(pg, g))
			}
			if best >= 0.45 {
				cs = append(cs, cand{e, 2, best})
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.sim != b.sim {
			return a.sim > b.sim
		}
		if len(a.e.s.Text) != len(b.e.s.Text) {
			return len(a.e.s.Text) < len(b.e.s.Text)
		}
		return a.e.s.Text < b.e.s.Text
	})
	out := make([]Suggestion, 0, min(limit, len(cs)))
	for _, c := range cs {
		if len(out) == limit {
			break
		}
		out = append(out, c.e.s)
	}
	return out
}

// ---------- parsing ----------

// token is one word of the query with where it came from.
type token struct {
	text       string // folded
	start, end int    // byte offsets in the original query
	typed      string // folded text as typed, before a typo correction
	corrected  bool   // text is a typo correction of typed
}

// Parse reads q against the index. It never fails: what it cannot read ends
// up in Unmatched.
func (ix *SearchIndex) Parse(q string) SearchQuery {
	var out SearchQuery
	toks := tokenize(q)
	// Plurals and typos first, so every later step sees known words.
	for i := range toks {
		toks[i].typed = toks[i].text
		w := toks[i].text
		if ix.meaningful(w) || isNumber(w) || w == "$" || len([]rune(w)) < 3 {
			continue
		}
		if s, ok := ix.inflection(w); ok {
			toks[i].text = s
			continue
		}
		if ix.words[w] { // part of a longer phrase ("dancing" in "ballroom dancing")
			continue
		}
		if c, ok := ix.correct(w); ok {
			toks[i].text, toks[i].corrected = c, true
			if out.Corrections == nil {
				out.Corrections = map[string]string{}
			}
			out.Corrections[q[toks[i].start:toks[i].end]] = c
		}
	}
	used := make([]bool, len(toks))
	src := func(i, j int) string { return q[toks[i].start:toks[j-1].end] }
	chip := func(kind, label string, i, j int) {
		for k := i; k < j; k++ {
			used[k] = true
		}
		out.Chips = append(out.Chips, Chip{Kind: kind, Label: label, Source: src(i, j)})
	}
	word := func(i int) string {
		if i < len(toks) {
			return toks[i].text
		}
		return ""
	}

	// Grammar: prices, lengths, days and times.
	for i := 0; i < len(toks); i++ {
		if used[i] {
			continue
		}
		if n, j, ok := parsePrice(toks, i); ok {
			out.MaxPriceCents = n
			chip("price", "under $"+strconv.Itoa(n/100), i, j)
			i = j - 1
			continue
		}
		if n, j, ok := parseDuration(toks, i); ok {
			out.DurationMinutes = n
			chip("duration", strconv.Itoa(n)+" min", i, j)
			i = j - 1
			continue
		}
		w, next := word(i), word(i+1)
		switch {
		case (w == "this" || w == "next") && (next == "weekend" || next == "weekends" || next == "week"):
			scope := ScopeThisWeek
			if w == "next" {
				scope = ScopeNextWeek
			}
			out.Scope = scope
			label := w + " week"
			if strings.HasPrefix(next, "weekend") {
				out.addDays(time.Saturday, time.Sunday)
				label = w + " weekend"
			}
			chip("day", label, i, i+2)
			i++
		case w == "today" || w == "tonight":
			out.Scope = ScopeToday
			if w == "tonight" {
				out.TimeOfDay = "evening"
			}
			chip("day", w, i, i+1)
		case w == "tomorrow":
			out.Scope = ScopeTomorrow
			chip("day", w, i, i+1)
		case dayWords[w] != nil:
			out.addDays(dayWords[w]...)
			if timeWords[w] != "" { // "weeknights"
				out.TimeOfDay = timeWords[w]
			}
			chip("day", w, i, i+1)
		case timeWords[w] != "":
			out.TimeOfDay = timeWords[w]
			chip("time", timeWords[w], i, i+1)
		case (w == "high" || w == "middle" || w == "elementary" || w == "grade") && next == "school":
			lv := map[string]string{"high": "teens", "middle": "teens", "elementary": "kids", "grade": "kids"}[w]
			out.Levels = appendOnce(out.Levels, lv)
			chip("level", lv, i, i+2)
			i++
		case w == "after" && (next == "school" || next == "work"):
			out.TimeOfDay = map[string]string{"school": "afternoon", "work": "evening"}[next]
			chip("time", out.TimeOfDay, i, i+2)
			i++
		case isNumber(w) && (next == "am" || next == "pm"):
			h, _ := strconv.Atoi(w)
			if tod := clockPart(h, next == "pm"); tod != "" {
				out.TimeOfDay = tod
				chip("time", tod, i, i+2)
				i++
			}
		}
	}

	// Vocabulary: the longest phrase first at each position.
	services := map[string]float64{}
	areas := map[string]float64{}
	names := map[string]float64{}
	for i := 0; i < len(toks); i++ {
		if used[i] {
			continue
		}
		matched := false
		for n := min(ix.maxWords, len(toks)-i); n >= 1 && !matched; n-- {
			if slices.Contains(used[i:i+n], true) {
				continue
			}
			words := make([]string, n)
			typo := false
			for k := range n {
				words[k] = toks[i+k].text
				typo = typo || toks[i+k].corrected
			}
			ts := ix.phrases[strings.Join(words, " ")]
			if len(ts) == 0 {
				continue
			}
			// A bare first or last name means a person only when it means
			// nothing else ("Park" is a surname and part of "Park Slope").
			kind := pickKind(ts)
			factor := 1.0
			if typo {
				factor = typoFactor
			}
			var labels []string
			for _, t := range ts {
				if t.kind != kind {
					continue
				}
				wt := t.weight * factor
				switch kind {
				case "service":
					services[t.key] = max(services[t.key], wt)
				case "area":
					areas[t.key] = max(areas[t.key], wt)
				case "instructor":
					names[t.key] = max(names[t.key], wt)
				}
				labels = append(labels, t.key)
			}
			label := ix.chipLabel(kind, strings.Join(words, " "), labels)
			if kind == "area" {
				if b := strings.Join(words, " "); ix.boroughs[strings.TrimPrefix(b, "the ")] != nil {
					out.Boroughs = appendOnce(out.Boroughs, titleCase(strings.TrimPrefix(b, "the ")))
				}
			}
			chip(kind, label, i, i+n)
			i += n - 1
			matched = true
		}
	}

	// Level words and whatever is left.
	for i := range toks {
		if used[i] {
			continue
		}
		w := toks[i].text
		if lv := levelOf(w); lv != "" {
			out.Levels = appendOnce(out.Levels, lv)
			chip("level", lv, i, i+1)
			continue
		}
		if isStopword(w) || w == "$" {
			used[i] = true
			continue
		}
		out.Unmatched = append(out.Unmatched, q[toks[i].start:toks[i].end])
		if t := textTerm(toks[i].typed); t != "" {
			out.Words = appendOnce(out.Words, t)
		}
	}

	for slug, wt := range services {
		s := ix.services[slug]
		out.Services = append(out.Services, ServiceMatch{ID: s.ID, Slug: s.Slug, Name: s.Name, Weight: wt})
	}
	sort.Slice(out.Services, func(i, j int) bool {
		a, b := out.Services[i], out.Services[j]
		if a.Weight != b.Weight {
			return a.Weight > b.Weight
		}
		return a.Name < b.Name
	})
	for name, wt := range areas {
		out.Areas = append(out.Areas, AreaMatch{Name: name, Weight: wt})
	}
	sort.Slice(out.Areas, func(i, j int) bool {
		if out.Areas[i].Weight != out.Areas[j].Weight {
			return out.Areas[i].Weight > out.Areas[j].Weight
		}
		return out.Areas[i].Name < out.Areas[j].Name
	})
	for id, wt := range names {
		out.Instructors = append(out.Instructors, NameMatch{InstructorID: id, Weight: wt})
	}
	sort.Slice(out.Instructors, func(i, j int) bool {
		if out.Instructors[i].Weight != out.Instructors[j].Weight {
			return out.Instructors[i].Weight > out.Instructors[j].Weight
		}
		return out.Instructors[i].InstructorID < out.Instructors[j].InstructorID
	})
	slices.Sort(out.Days)
	return out
}

func (q *SearchQuery) addDays(ds ...time.Weekday) {
	for _, d := range ds {
		if !slices.Contains(q.Days, d) {
			q.Days = append(q.Days, d)
		}
	}
}

// pickKind chooses what a phrase means: a service or an area before a person.
func pickKind(ts []target) string {
	best := ""
	for _, t := range ts {
		switch {
		case t.kind == "service":
			return "service"
		case t.kind == "area":
			best = "area"
		case best == "":
			best = t.kind
		}
	}
	return best
}

// chipLabel names what a phrase was understood as: the service when there is
// one, else the words in title case ("brooklyn" → "Brooklyn").
func (ix *SearchIndex) chipLabel(kind, phrase string, keys []string) string {
	if kind == "service" && len(keys) == 1 {
		return ix.services[keys[0]].Name
	}
	if kind == "area" && len(keys) == 1 {
		return keys[0]
	}
	return titleCase(phrase)
}

// meaningful reports whether w means something on its own: a phrase of one
// word, a word of the grammar, a level or a stopword.
func (ix *SearchIndex) meaningful(w string) bool {
	return ix.phrases[w] != nil || grammarWords[w] || levelOf(w) != "" || stopwords[w]
}

// inflection maps a plural or verb form onto a known word: "pianos" →
// "piano", "cook" → "cooking", "dancing" → "dance".
func (ix *SearchIndex) inflection(w string) (string, bool) {
	var forms []string
	if s, ok := strings.CutSuffix(w, "es"); ok {
		forms = append(forms, s)
	}
	if s, ok := strings.CutSuffix(w, "s"); ok {
		forms = append(forms, s)
	}
	if s, ok := strings.CutSuffix(w, "ing"); ok {
		forms = append(forms, s, s+"e")
	}
	forms = append(forms, w+"ing")
	for _, f := range forms {
		if len(f) >= 3 && ix.meaningful(f) && !stopwords[f] {
			return f, true
		}
	}
	return "", false
}

// correct returns the vocabulary word closest to w, if close enough. Short
// words must keep their first letter: "pino" is piano, "cook" is not "hook".
func (ix *SearchIndex) correct(w string) (string, bool) {
	if len(w) < 4 {
		return "", false
	}
	g := trigrams(w)
	best, bestDist, bestSim := "", 99, 0.0
	for _, c := range ix.typoWords {
		if abs(len(c.word)-len(w)) > 2 || (len(w) <= 5 && c.word[0] != w[0]) {
			continue
		}
		sim := jaccard(g, c.grams)
		dist := osaDistance(w, c.word, 2)
		ok := sim >= 0.5 || (dist <= 1 && len(w) >= 4 && len(c.word) >= 4) || (dist <= 2 && len(w) >= 7)
		if !ok {
			continue
		}
		if dist < bestDist || (dist == bestDist && sim > bestSim) {
			best, bestDist, bestSim = c.word, dist, sim
		}
	}
	return best, best != ""
}

// ---------- grammar ----------

// parsePrice reads a price cap at toks[i]: "under $80", "less than 100
// dollars", "max 90", "$80 or less", "up to 75/hr", or a bare "$80".
// A number followed by a time unit is a length, not a price.
func parsePrice(toks []token, i int) (cents, end int, ok bool) {
	w := func(k int) string {
		if k < len(toks) {
			return toks[k].text
		}
		return ""
	}
	j := i
	qualified := false
	switch {
	case w(j) == "under" || w(j) == "below" || w(j) == "max" || w(j) == "maximum" || w(j) == "within":
		j++
		qualified = true
	case (w(j) == "less" || w(j) == "cheaper" || w(j) == "lower") && w(j+1) == "than":
		j += 2
		qualified = true
	case (w(j) == "up" || w(j) == "at") && (w(j+1) == "to" || w(j+1) == "most"):
		j += 2
		qualified = true
	case w(j) == "no" && (w(j+1) == "more" || w(j+1) == "over") && w(j+2) == "than":
		j += 3
		qualified = true
	}
	dollar := false
	if w(j) == "$" {
		dollar = true
		j++
	}
	if !isNumber(w(j)) {
		return 0, 0, false
	}
	f, err := strconv.ParseFloat(w(j), 64)
	if err != nil || f <= 0 || f > 100000 {
		return 0, 0, false
	}
	j++
	if !dollar && (durationUnit(w(j)) != 0 || w(j) == "am" || w(j) == "pm") {
		return 0, 0, false
	}
	switch w(j) {
	case "$", "dollar", "dollars", "usd", "bucks":
		dollar = true
		j++
	}
	if w(j) == "per" || w(j) == "an" || w(j) == "a" {
		if w(j+1) == "hour" || w(j+1) == "hr" || w(j+1) == "lesson" || w(j+1) == "session" {
			j += 2
		}
	} else if w(j) == "hr" || w(j) == "hour" || w(j) == "hourly" {
		j++
	}
	if w(j) == "or" && (w(j+1) == "less" || w(j+1) == "under" || w(j+1) == "cheaper" || w(j+1) == "below") {
		j += 2
		qualified = true
	} else if w(j) == "max" || w(j) == "maximum" {
		j++
		qualified = true
	}
	if !qualified && !dollar {
		return 0, 0, false
	}
	return int(f*100 + 0.5), j, true
}

// parseDuration reads a lesson length: "30 minute", "45 min", "1 hour",
// "1.5 hours", "an hour", "half hour", "half an hour".
func parseDuration(toks []token, i int) (minutes, end int, ok bool) {
	w := func(k int) string {
		if k < len(toks) {
			return toks[k].text
		}
		return ""
	}
	switch {
	case w(i) == "half" && w(i+1) == "hour":
		return 30, i + 2, true
	case w(i) == "half" && w(i+1) == "an" && w(i+2) == "hour":
		return 30, i + 3, true
	case (w(i) == "an" || w(i) == "one") && (w(i+1) == "hour" || w(i+1) == "hr") && w(i+2) != "from":
		return 60, i + 2, true
	case w(i) == "hour" && w(i+1) == "long":
		return 60, i + 2, true
	}
	if !isNumber(w(i)) {
		return 0, 0, false
	}
	unit := durationUnit(w(i + 1))
	if unit == 0 {
		return 0, 0, false
	}
	f, err := strconv.ParseFloat(w(i), 64)
	if err != nil {
		return 0, 0, false
	}
	n := int(f*float64(unit) + 0.5)
	if n < SlotMinutes || n > 8*60 {
		return 0, 0, false
	}
	j := i + 2
	if w(j) == "long" || w(j) == "lesson" || w(j) == "lessons" || w(j) == "session" || w(j) == "sessions" {
		// keep "lesson" for the stopword pass: it carries no meaning
		if w(j) == "long" {
			j++
		}
	}
	return n, j, true
}

func durationUnit(w string) int {
	switch w {
	case "min", "mins", "minute", "minutes", "m":
		return 1
	case "hour", "hours", "hr", "hrs", "h":
		return 60
	}
	return 0
}

// clockPart maps an hour with am/pm to a part of the day.
func clockPart(h int, pm bool) string {
	if h < 1 || h > 12 {
		return ""
	}
	if pm && h != 12 {
		h += 12
	}
	if !pm && h == 12 {
		h = 0
	}
	switch {
	case h >= 6 && h < 12:
		return "morning"
	case h >= 12 && h < 17:
		return "afternoon"
	case h >= 17 && h < 23:
		return "evening"
	}
	return ""
}

var dayWords = map[string][]time.Weekday{
	"monday": {time.Monday}, "mondays": {time.Monday}, "mon": {time.Monday},
	"tuesday": {time.Tuesday}, "tuesdays": {time.Tuesday}, "tue": {time.Tuesday}, "tues": {time.Tuesday},
	"wednesday": {time.Wednesday}, "wednesdays": {time.Wednesday}, "wed": {time.Wednesday},
	"thursday": {time.Thursday}, "thursdays": {time.Thursday}, "thu": {time.Thursday}, "thur": {time.Thursday}, "thurs": {time.Thursday},
	"friday": {time.Friday}, "fridays": {time.Friday}, "fri": {time.Friday},
	"saturday": {time.Saturday}, "saturdays": {time.Saturday},
	"sunday": {time.Sunday}, "sundays": {time.Sunday}, "sun": {time.Sunday},
	"weekend": {time.Saturday, time.Sunday}, "weekends": {time.Saturday, time.Sunday},
	"weekday":    {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekdays":   {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weeknight":  {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weeknights": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
}

var timeWords = map[string]string{
	"morning": "morning", "mornings": "morning",
	"afternoon": "afternoon", "afternoons": "afternoon", "lunchtime": "afternoon",
	"evening": "evening", "evenings": "evening", "night": "evening", "nights": "evening",
	"weeknight": "evening", "weeknights": "evening",
}

// levelWords maps a level to the bio words that show it (English stems are
// applied by Postgres, so "beginner" also finds "beginners").
var levelWords = map[string][]string{
	"beginner":     {"beginner", "first", "new", "start"},
	"intermediate": {"intermediate"},
	"advanced":     {"advanced", "conservatory", "tournament", "serious"},
	"kids":         {"kid", "child", "children", "young", "grade", "school"},
	"teens":        {"teen", "teenager", "high", "school", "student"},
	"adults":       {"adult"},
	"seniors":      {"senior", "older", "age"},
}

// LevelTSQuery is a level's bio words as a tsquery OR-group ("kid |
// child | …"). The words are constants of this package, so the result is
// always valid to_tsquery input.
func LevelTSQuery(level string) string { return strings.Join(levelWords[level], " | ") }

// levelOf returns the level a word names ("kids" → kids), or "".
func levelOf(w string) string {
	switch w {
	case "beginner", "beginners", "novice", "novices", "newbie", "basics":
		return "beginner"
	case "intermediate":
		return "intermediate"
	case "advanced", "expert", "pro", "professional":
		return "advanced"
	case "kid", "kids", "child", "children", "toddler", "toddlers", "son", "daughter":
		return "kids"
	case "teen", "teens", "teenager", "teenagers", "highschool":
		return "teens"
	case "adult", "adults", "grownup", "grownups":
		return "adults"
	case "senior", "seniors", "elderly":
		return "seniors"
	}
	return ""
}

// grammarWords are words the grammar reads; they are never "corrected".
var grammarWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range dayWords {
		m[w] = true
	}
	for w := range timeWords {
		m[w] = true
	}
	for _, w := range []string{"today", "tonight", "tomorrow", "this", "next", "week", "under", "below",
		"less", "than", "cheaper", "lower", "max", "maximum", "most", "more", "over", "dollar", "dollars", "usd",
		"bucks", "per", "hour", "hours", "hourly", "minute", "minutes", "min", "mins", "half", "long", "after",
		"school", "work", "am", "pm", "within", "one"} {
		m[w] = true
	}
	return m
}()

// stopwords carry no meaning for the search: they are dropped, not
// reported as unmatched.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the i im me my we our us you your for in on at near around by with and or
		to of from who that which what where when can could would will want wants wanted need needs looking look
		find finding search some someone somebody anyone any teacher teachers tutor tutors tutoring instructor
		instructors coach coaches coaching lesson lessons class classes course courses session sessions private
		help learn learning teach teaches teaching how please good best great top nearby local available
		availability free open time times slot slots book booking nyc ny city area neighborhood neighbourhood is
		are be like love get just really very also about between start starting x is it its this that these
		those there here do does done lessons training trainer's one-on-one 1on1 online person in-person home
		house place studio who'd i'd want to up something new york prep test exam exams preparation`) {
		m[w] = true
	}
	// "new" and "york" are stopwords only as a pair in practice; "new"
	// also shows beginners in bios, which the level words cover.
	return m
}()

func isStopword(w string) bool { return stopwords[w] }

// genericServiceWord are words of service names too vague to mean those
// services on their own ("skills" → Knife, Soccer, Study…).
var genericServiceWord = map[string]bool{
	"skills": true, "basics": true, "prep": true, "making": true, "building": true, "first": true,
	"design": true, "development": true, "ride": true, "learn": true, "writing": true, "english": true,
	"and": true, "with": true, "your": true, "hand": true, "for": true, "second": true, "language": true,
	"environment": true, "living": true, "nys": true, "training": true, "coaching": true, "dance": true,
}

// textTerm is a typed word as a full-text term: letters and digits only,
// so it can be joined into a tsquery without any operator of its own.
func textTerm(w string) string {
	var b strings.Builder
	for _, r := range w {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

// ---------- text helpers ----------

// tokenize folds q and splits it into words, keeping each word's span.
// Letters and digits form words; a switch between letters and digits splits
// ("30min" → "30" "min"); "$" is a word of its own; "+" and "#" stay in a
// word ("c++"); apostrophes vanish ("hell's" → "hells"); a "." between
// digits stays ("1.5"); anything else separates.
func tokenize(q string) []token {
	var out []token
	var cur []rune
	start, last := -1, 0
	prevDigit := false
	flush := func(end int) {
		if len(cur) > 0 {
			out = append(out, token{text: string(cur), start: start, end: end})
		}
		cur, start = cur[:0], -1
	}
	for i, r := range q {
		size := utf8.RuneLen(r)
		if size < 0 {
			size = 1
		}
		f := foldRune(r)
		switch {
		case r == '\'' || r == '’':
			if len(cur) > 0 {
				last = i + size
			}
			continue
		case r == '.' && prevDigit && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			cur = append(cur, '.')
			last = i + size
			continue
		case r == '$':
			flush(last)
			out = append(out, token{text: "$", start: i, end: i + size})
			prevDigit = false
			continue
		case f != "" || r == '+' || r == '#':
			isDigit := unicode.IsDigit(r)
			if len(cur) > 0 && isDigit != prevDigit && r != '+' && r != '#' {
				flush(last)
			}
			if start < 0 {
				start = i
			}
			if f == "" {
				cur = append(cur, r)
			} else {
				cur = append(cur, []rune(f)...)
			}
			prevDigit = isDigit
			last = i + size
			continue
		}
		flush(last)
		prevDigit = false
	}
	flush(last)
	return out
}

// foldWords is tokenize without the spans, for vocabulary phrases.
func foldWords(s string) []string {
	toks := tokenize(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// foldRune lower-cases a letter or digit and strips common Latin accents;
// "" for anything else.
func foldRune(r rune) string {
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return ""
	}
	r = unicode.ToLower(r)
	if r < 0x80 {
		return string(r)
	}
	if f, ok := accentFold[r]; ok {
		return f
	}
	return string(r)
}

var accentFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ı': "i"}
	for base, letters := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćčĉċ", "e": "èéêëēĕėęě", "i": "ìíîïĩīĭį", "n": "ñńňņ",
		"o": "òóôõöōŏő", "u": "ùúûüũūŭůűų", "y": "ýÿŷ", "s": "śšşŝ", "z": "źżž", "g": "ğĝġģ", "r": "ŕřŗ",
		"t": "ţťŧ", "d": "ď", "l": "ĺľļ",
	} {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

func isNumber(w string) bool {
	if w == "" {
		return false
	}
	dot := false
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] >= '0' && w[i] <= '9':
		case w[i] == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

// trigrams are pg_trgm's: the word padded with two spaces before and one
// after, cut into every 3-rune window.
func trigrams(w string) map[string]bool {
	r := []rune("  " + w + " ")
	out := make(map[string]bool, len(r))
	for i := 0; i+3 <= len(r); i++ {
		out[string(r[i:i+3])] = true
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	common := 0
	for g := range a {
		if b[g] {
			common++
		}
	}
	union := len(a) + len(b) - common
	if union == 0 {
		return 0
	}
	return float64(common) / float64(union)
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// adjacent transpositions) of a and b, or limit+1 once it exceeds limit.
func osaDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if abs(len(ra)-len(rb)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func titleCase(s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		ws[i] = string(r)
	}
	return strings.Join(ws, " ")
}
