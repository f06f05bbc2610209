package market

// SearchRelaxation is a search one constraint wider than one that found
// nobody: the query text to run instead, what changed, and how many
// instructors it finds (counted by running it, at most the search's limit).
type SearchRelaxation struct {
	Kind  string `json:"kind"`  // price | time | duration | area | service | only (the service and area alone)
	Label string `json:"label"` // what the chip says: "any day or time", "Brooklyn", "Violin"
	Query string `json:"query"` // the rewritten query
	Count int    `json:"count"`
}

// SearchOptions tune one search.
type SearchOptions struct {
	Limit int
	// Exact turns typo correction off ("search instead for violn").
	Exact bool
	// NoRelax skips the relaxations of an empty result (counting one does).
	NoRelax bool
}
