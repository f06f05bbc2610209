package search

import (
	"sort"
	"strings"

	"instainstru/market"
)

// suggestEntry is a completion candidate, folded once when the index is built.
type suggestEntry struct {
	s      market.Suggestion
	folded string
	grams  []map[string]bool // per word, for close spellings
}

// addSuggestion makes text a completion of the given kind.
func (ix *Index) addSuggestion(kind, text string, id *string) {
	e := suggestEntry{s: market.Suggestion{Kind: kind, Text: text, ID: id}, folded: strings.Join(foldWords(text), " ")}
	for _, w := range strings.Fields(e.folded) {
		e.grams = append(e.grams, trigrams(w))
	}
	ix.suggestions = append(ix.suggestions, e)
}

// untaught reports whether e is a service nobody teaches.
func (e *suggestEntry) untaught() bool { return e.s.Taught != nil && !*e.s.Taught }

// Suggest completes prefix over service, area, borough and instructor
// names: names starting with it first, then names with a word starting
// with it, then close spellings (prefixes of 4+ letters); services nobody
// teaches come after all of those. At most limit.
func (ix *Index) Suggest(prefix string, limit int) []market.Suggestion {
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
		// A service nobody teaches is a dead end: after everything else.
		if ua, ub := a.e.untaught(), b.e.untaught(); ua != ub {
			return ub
		}
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
	out := make([]market.Suggestion, 0, min(limit, len(cs)))
	for _, c := range cs {
		if len(out) == limit {
			break
		}
		out = append(out, c.e.s)
	}
	return out
}
