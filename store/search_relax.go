package store

import (
	"context"
	"strconv"
	"time"

	"instainstru/market"
	"instainstru/search"
)

// Search without dead ends: an empty result comes with wider searches
// that do find instructors (search.Index.Relax proposes them, nearest
// first; each is counted here by running it) and the most taught services.

// maxRelaxShown is how many counted relaxations an empty result offers.
const maxRelaxShown = 4

// relaxLimit is the most instructors a relaxation counts ("20" means 20 or
// more); it bounds each count's work like a page of results.
const relaxLimit = 20

// explainEmpty fills res.Relaxations and res.Popular for a search that
// found nobody. At most search.MaxRelaxations (+1 for a raised price)
// extra searches run, none of them relaxed further.
func (s *Searcher) explainEmpty(ctx context.Context, ix *search.Index, res *market.SearchResult, o market.SearchOptions, now time.Time) error {
	res.Popular = ix.Popular(6)
	res.Relaxations = []market.SearchRelaxation{}
	sub := market.SearchOptions{Limit: relaxLimit, Exact: o.Exact, NoRelax: true}
	for _, r := range ix.Relax(res.Query, res.Parsed) {
		if len(res.Relaxations) == maxRelaxShown {
			break
		}
		got, err := s.rank(ctx, ix, r.Query, sub, now)
		if err != nil {
			return err
		}
		if len(got.Items) == 0 {
			continue
		}
		if r.Kind == "price" {
			if raised, ok, err := s.raisePrice(ctx, ix, res, got, sub, now); err != nil {
				return err
			} else if ok {
				r = raised
				got = nil
			}
		}
		if got != nil {
			r.Count = len(got.Items)
		}
		res.Relaxations = append(res.Relaxations, r)
	}
	return nil
}

// raisePrice turns "any price" into the lowest cap that finds someone:
// the cheapest matching rate among uncapped hits, rounded up to $5, put in
// place of the query's price words, and counted by running it.
func (s *Searcher) raisePrice(ctx context.Context, ix *search.Index, res, uncapped *market.SearchResult, sub market.SearchOptions, now time.Time) (market.SearchRelaxation, bool, error) {
	cheapest := 0
	for _, it := range uncapped.Items {
		for _, sv := range it.Services {
			if cheapest == 0 || sv.HourlyRateCents < cheapest {
				cheapest = sv.HourlyRateCents
			}
		}
	}
	var src string
	for _, c := range res.Parsed.Chips {
		if c.Kind == "price" {
			src = c.Source
		}
	}
	if cheapest == 0 || src == "" {
		return market.SearchRelaxation{}, false, nil
	}
	dollars := (cheapest + 499) / 500 * 5
	label := "under $" + strconv.Itoa(dollars)
	q := search.ReplaceWords(res.Query, src, label)
	got, err := s.rank(ctx, ix, q, sub, now)
	if err != nil || len(got.Items) == 0 {
		return market.SearchRelaxation{}, false, err
	}
	return market.SearchRelaxation{Kind: "price", Label: label, Query: q, Count: len(got.Items)}, true, nil
}
