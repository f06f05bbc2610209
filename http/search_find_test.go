package http

import (
	"testing"

	"instainstru/market"
)

// findResponse is the part of GET /search that keeps a search from ending
// in a dead end.
type findResponse struct {
	Query      string  `json:"query"`
	Exact      bool    `json:"exact"`
	DidYouMean *string `json:"did_you_mean"`
	Parsed     struct {
		Services []struct {
			Name            string `json:"name"`
			InstructorCount int    `json:"instructor_count"`
			Taught          bool   `json:"taught"`
		} `json:"services"`
		Corrections map[string]string `json:"corrections"`
	} `json:"parsed"`
	Items       []struct{}                `json:"items"`
	Relaxations []market.SearchRelaxation `json:"relaxations"`
	Popular     []struct {
		Name            string `json:"name"`
		InstructorCount int    `json:"instructor_count"`
		Taught          bool   `json:"taught"`
	} `json:"popular"`
}

func TestSearchAPIAnswersEmptyResultsWithWaysOn(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	var r findResponse
	ts.doJSON("GET", searchPath("violn lessons"), "", nil, 200, &r)
	if r.DidYouMean == nil || *r.DidYouMean != "violin lessons" || r.Exact || len(r.Items) == 0 ||
		len(r.Relaxations) != 0 || len(r.Popular) != 0 {
		t.Fatalf("violn lessons = %+v", r)
	}
	r = findResponse{}
	ts.doJSON("GET", searchPath("violn", "&exact=1"), "", nil, 200, &r)
	if r.DidYouMean != nil || !r.Exact || len(r.Items) != 0 || len(r.Popular) == 0 || !r.Popular[0].Taught {
		t.Fatalf("violn exactly = %+v", r)
	}
	r = findResponse{}
	ts.doJSON("GET", searchPath("cello in queens"), "", nil, 200, &r)
	if len(r.Parsed.Services) != 1 || r.Parsed.Services[0].Taught || r.Parsed.Services[0].InstructorCount != 0 ||
		len(r.Items) != 0 || len(r.Relaxations) == 0 || r.Relaxations[0].Count < 1 || r.Relaxations[0].Query == "" {
		t.Fatalf("cello in queens = %+v", r)
	}
}
