package store_test

import (
	"testing"

	"instainstru/store"
)

func TestParsePoolingReadsDBPooling(t *testing.T) {
	for in, want := range map[string]store.Pooling{"": store.PoolingSession, "session": store.PoolingSession,
		"transaction": store.PoolingTransaction} {
		got, err := store.ParsePooling(in)
		if err != nil || got != want {
			t.Errorf("ParsePooling(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in != "" && got.String() != in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if _, err := store.ParsePooling("statement"); err == nil {
		t.Error("statement pooling (no transactions at all) was accepted")
	}
}
