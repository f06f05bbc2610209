package search

import (
	"slices"
	"sort"

	"instainstru/market"
)

// parser is the state of one Parse call: the query, its tokens, which
// tokens a pass has already read, the matches so far and the result.
type parser struct {
	ix    *Index
	q     string
	exact bool // no typo corrections
	toks  []token
	used  []bool
	out   market.SearchQuery

	// best weight per service slug, area name and instructor id
	services, areas, names map[string]float64
}

// Parse reads q against the index. It never fails: what it cannot read ends
// up in Unmatched. The passes run in order, each on the tokens the earlier
// ones left: normalise (plurals and typos), grammar (prices, lengths, days,
// times), vocabulary (services, areas, instructors), then level words and
// whatever is left.
func (ix *Index) Parse(q string) market.SearchQuery { return ix.parse(q, false) }

// ParseExact is Parse without typo corrections: the words as typed ("search
// instead for violn").
func (ix *Index) ParseExact(q string) market.SearchQuery { return ix.parse(q, true) }

func (ix *Index) parse(q string, exact bool) market.SearchQuery {
	p := &parser{ix: ix, q: q, exact: exact, toks: tokenize(q),
		services: map[string]float64{}, areas: map[string]float64{}, names: map[string]float64{}}
	p.normalise()
	p.used = make([]bool, len(p.toks))
	p.grammar()
	p.vocabulary()
	p.leftovers()
	p.collect()
	slices.Sort(p.out.Days)
	return p.out
}

// src is the text of toks[i:j] as typed.
func (p *parser) src(i, j int) string { return p.q[p.toks[i].start:p.toks[j-1].end] }

// chip marks toks[i:j] read and reports them as understood as label.
func (p *parser) chip(kind, label string, i, j int) {
	for k := i; k < j; k++ {
		p.used[k] = true
	}
	p.out.Chips = append(p.out.Chips, market.Chip{Kind: kind, Label: label, Source: p.src(i, j)})
}

// leftovers is the last pass: level words become levels, stopwords are
// dropped, and any other word is unmatched and searched as text.
func (p *parser) leftovers() {
	for i := range p.toks {
		if p.used[i] {
			continue
		}
		w := p.toks[i].text
		if lv := levelOf(w); lv != "" {
			p.out.Levels = appendOnce(p.out.Levels, lv)
			p.chip("level", lv, i, i+1)
			continue
		}
		if isStopword(w) || w == "$" {
			p.used[i] = true
			continue
		}
		p.out.Unmatched = append(p.out.Unmatched, p.src(i, i+1))
		if t := textTerm(p.toks[i].typed); t != "" {
			p.out.Words = appendOnce(p.out.Words, t)
		}
	}
}

// collect turns the matches into the query's services, areas and
// instructors, heaviest first, ties by name or id.
func (p *parser) collect() {
	out := &p.out
	for slug, wt := range p.services {
		s := p.ix.services[slug]
		out.Services = append(out.Services, market.ServiceMatch{ID: s.ID, Slug: s.Slug, Name: s.Name, Weight: wt,
			InstructorCount: s.Instructors})
	}
	sort.Slice(out.Services, func(i, j int) bool {
		a, b := out.Services[i], out.Services[j]
		if a.Weight != b.Weight {
			return a.Weight > b.Weight
		}
		return a.Name < b.Name
	})
	for name, wt := range p.areas {
		out.Areas = append(out.Areas, market.AreaMatch{Name: name, Weight: wt})
	}
	sort.Slice(out.Areas, func(i, j int) bool {
		if out.Areas[i].Weight != out.Areas[j].Weight {
			return out.Areas[i].Weight > out.Areas[j].Weight
		}
		return out.Areas[i].Name < out.Areas[j].Name
	})
	for id, wt := range p.names {
		out.Instructors = append(out.Instructors, market.NameMatch{InstructorID: id, Weight: wt})
	}
	sort.Slice(out.Instructors, func(i, j int) bool {
		if out.Instructors[i].Weight != out.Instructors[j].Weight {
			return out.Instructors[i].Weight > out.Instructors[j].Weight
		}
		return out.Instructors[i].InstructorID < out.Instructors[j].InstructorID
	})
}

// appendOnce appends s unless list has it already.
func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
