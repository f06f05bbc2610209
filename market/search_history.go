package market

import "time"

// SearchResult is a parsed query and its ranked instructors.
type SearchResult struct {
	Query  string
	Parsed SearchQuery
	Items  []SearchHit
	// Relaxations are set when Items is empty: nearby searches that do
	// find instructors, nearest first (see SearchRelaxation).
	Relaxations []SearchRelaxation
	// Popular is set when Items is empty: services people teach most, to
	// offer instead of a dead end.
	Popular []ServiceMatch
}

// SearchRecord is one search as recorded after the answer went out.
type SearchRecord struct {
	UserID      string // "" for an anonymous search: only the anonymous log gets a row
	Query       string
	ResultCount int
	ServiceIDs  []string // services the query matched, for the anonymous log
	At          time.Time
}

// SearchHistoryEntry is one of a user's recent searches.
type SearchHistoryEntry struct {
	ID          string    `json:"id"`
	Query       string    `json:"query"`
	SearchedAt  time.Time `json:"searched_at"`
	ResultCount int       `json:"result_count"`
}
