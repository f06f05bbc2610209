package search

import (
	"slices"
	"strings"
)

// vocabulary is the third pass: at each position not yet read, the longest
// phrase of the index that starts there becomes a service, area or
// instructor match (weighed lower when a word of it was a typo) and a chip.
func (p *parser) vocabulary() {
	for i := 0; i < len(p.toks); i++ {
		if p.used[i] {
			continue
		}
		if n := p.longestPhrase(i); n > 0 {
			i += n - 1
		}
	}
}

// longestPhrase matches the longest known phrase of unread tokens at
// toks[i] and returns its length in tokens, 0 when none matches.
func (p *parser) longestPhrase(i int) int {
	for n := min(p.ix.maxWords, len(p.toks)-i); n >= 1; n-- {
		if slices.Contains(p.used[i:i+n], true) {
			continue
		}
		words := make([]string, n)
		typo := false
		for k := range n {
			words[k] = p.toks[i+k].text
			typo = typo || p.toks[i+k].corrected
		}
		phrase := strings.Join(words, " ")
		if ts := p.ix.phrases[phrase]; len(ts) > 0 {
			p.take(ts, phrase, typo, i, i+n)
			return n
		}
	}
	return 0
}

// take records what the phrase toks[i:j] means: the best weight per target
// of the kind it is read as, the borough it names, and its chip.
func (p *parser) take(ts []target, phrase string, typo bool, i, j int) {
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
			p.services[t.key] = max(p.services[t.key], wt)
		case "area":
			p.areas[t.key] = max(p.areas[t.key], wt)
		case "instructor":
			p.names[t.key] = max(p.names[t.key], wt)
		}
		labels = append(labels, t.key)
	}
	label := p.ix.chipLabel(kind, phrase, labels)
	if kind == "area" {
		if b := p.ix.boroughOf(phrase); b != "" {
			p.out.Boroughs = appendOnce(p.out.Boroughs, b)
		}
	}
	p.chip(kind, label, i, j)
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
func (ix *Index) chipLabel(kind, phrase string, keys []string) string {
	if kind == "service" && len(keys) == 1 {
		return ix.services[keys[0]].Name
	}
	if b := ix.boroughOf(phrase); kind == "area" && b != "" {
		return b
	}
	if kind == "area" && len(keys) == 1 {
		return keys[0]
	}
	return titleCase(phrase)
}
