// Package search is natural-language search, parsing side. A query is
// folded (lower case, no accents), split into tokens, and read left to
// right against a vocabulary that the store loads from the database
// (catalog services, synonyms, NYC areas and boroughs, instructor names)
// plus the fixed words of this package (days, parts of the day, lesson
// lengths, price caps, level words).
//
// Parsing runs in passes over the tokens (parse.go): normalise (plurals and
// typos, normalise.go and typo.go), grammar (grammar.go), vocabulary
// (vocabulary.go), then level words and leftovers. It runs in Go over the
// cached vocabulary so parsing needs no database round trip and stays
// unit-testable; the database still does the ranking and full-text
// relevance (store/search.go). The query, hit and suggestion types are
// market's; this package imports market and nothing of the store.
package search
