package search

import (
	"sort"

	"instainstru/market"
)

// Taught services: a catalog service nobody offers is still understood,
// but it is a dead end, so typo corrections and suggestions prefer
// services someone teaches, and a search for one is offered related
// services that are taught.

// untaughtOnlyWords are the words whose every meaning is a service nobody
// teaches: a typo is corrected to them only when nothing taught is as
// close ("violn" is violin before viola when only violin is taught).
func (ix *Index) untaughtOnlyWords() map[string]bool {
	good, poor := map[string]bool{}, map[string]bool{}
	for phrase, ts := range ix.phrases {
		taught := false
		for _, t := range ts {
			if t.kind != "service" || ix.services[t.key].Instructors > 0 {
				taught = true
			}
		}
		for _, w := range foldWords(phrase) {
			if taught {
				good[w] = true
			} else {
				poor[w] = true
			}
		}
	}
	for w := range good {
		delete(poor, w)
	}
	return poor
}

// Related are up to n services someone teaches in the category of the
// service slug (the service itself excluded), most taught first.
func (ix *Index) Related(slug string, n int) []market.ServiceMatch {
	s, ok := ix.services[slug]
	if !ok {
		return nil
	}
	return ix.taught(n, func(o VocabService) bool { return o.Category == s.Category && o.Slug != slug })
}

// Popular are up to n services someone teaches, most taught first.
func (ix *Index) Popular(n int) []market.ServiceMatch {
	return ix.taught(n, func(VocabService) bool { return true })
}

// taught lists up to n taught services that keep accepts, by instructor
// count (most first), then name.
func (ix *Index) taught(n int, keep func(VocabService) bool) []market.ServiceMatch {
	var out []market.ServiceMatch
	for _, s := range ix.services {
		if s.Instructors > 0 && keep(s) {
			out = append(out, market.ServiceMatch{ID: s.ID, Slug: s.Slug, Name: s.Name, InstructorCount: s.Instructors})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].InstructorCount != out[j].InstructorCount {
			return out[i].InstructorCount > out[j].InstructorCount
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
