package search

import (
	"slices"
	"testing"
)

func TestSuggestCompletesPrefixesFirst(t *testing.T) {
	ix := testSearchIndex()
	got := ix.Suggest("pia", 5)
	if len(got) == 0 || got[0].Text != "Piano" || got[0].Kind != "service" || got[0].ID == nil {
		t.Fatalf("suggest pia = %+v", got)
	}
	got = ix.Suggest("brook", 5)
	var texts []string
	for _, s := range got {
		texts = append(texts, s.Text)
	}
	if !slices.Contains(texts, "Brooklyn") || !slices.Contains(texts, "Brooklyn Heights") {
		t.Fatalf("suggest brook = %v", texts)
	}
	if got := ix.Suggest("guit", 1); len(got) != 1 {
		t.Fatalf("limit not applied: %+v", got)
	}
}
