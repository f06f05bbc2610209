package search

import (
	"sort"
	"strings"
)

// Places: nicknames of areas and boroughs, and what lies near an area.
// The nicknames are data (the search_place_nicknames table); this file
// only knows how to index them.

// addNicknames indexes each nickname as the areas it names: an area name
// means that area, a borough name every area of the borough (as naming the
// borough does), so "bk" reads like "brooklyn". Names that are neither are
// ignored, as synonyms of missing services are.
func (ix *Index) addNicknames(nick map[string][]string) {
	for term, places := range nick {
		for _, place := range places {
			if _, ok := ix.areas[place]; ok {
				ix.add(term, target{"area", place, weightExact})
				continue
			}
			b := strings.Join(foldWords(place), " ")
			names := ix.boroughs[b]
			for _, n := range names {
				ix.add(term, target{"area", n, weightBorough})
			}
			if len(names) > 0 && len(places) == 1 {
				ix.boroughName[strings.Join(foldWords(term), " ")] = ix.boroughName[b]
			}
		}
	}
}

// boroughOf is the borough a phrase names as a whole ("brooklyn", "the
// bronx", "bk"), or "".
func (ix *Index) boroughOf(phrase string) string { return ix.boroughName[phrase] }

// AreaBorough is the borough an area lies in, or "" for an unknown area.
func (ix *Index) AreaBorough(area string) string { return ix.areas[area].Borough }

// Boroughs are the boroughs that have areas, in name order.
func (ix *Index) Boroughs() []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range ix.boroughName {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	sort.Strings(out)
	return out
}
