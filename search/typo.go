package search

// Typos: a token that is not a known word is replaced by the closest
// vocabulary word when it is close enough, by the same trigram similarity
// pg_trgm computes (padded 3-grams, |A∩B|/|A∪B|) or an optimal-string-
// alignment edit distance (one edit for words of 4+ letters, two for 7+),
// which catches transpositions ("gutiar") that trigrams miss. It runs in Go
// over the cached vocabulary (a few thousand words) so parsing needs no
// database round trip and stays unit-testable.

// typoWord is a correction candidate with its trigrams, computed once.
type typoWord struct {
	word  string
	grams map[string]bool
	poor  bool // every meaning of the word is a service nobody teaches
}

// correct returns the vocabulary word closest to w, if close enough. Short
// words must keep their first letter: "pino" is piano, "cook" is not "hook".
// Among close words, one that leads somewhere taught wins over one that
// only names services nobody teaches, then the fewest edits, then a word
// that w is missing letters of ("violn" → violin before viola), then the
// most shared trigrams.
func (ix *Index) correct(w string) (string, bool) {
	if len(w) < 4 {
		return "", false
	}
	g := trigrams(w)
	var best *typoCand
	for i := range ix.typoWords {
		c := &ix.typoWords[i]
		if abs(len(c.word)-len(w)) > 2 || (len(w) <= 5 && c.word[0] != w[0]) {
			continue
		}
		sim := jaccard(g, c.grams)
		dist := osaDistance(w, c.word, 2)
		ok := sim >= 0.5 || (dist <= 1 && len(w) >= 4 && len(c.word) >= 4) || (dist <= 2 && len(w) >= 7)
		if !ok {
			continue
		}
		cand := typoCand{c.word, c.poor, dist, isSubsequence(w, c.word), sim}
		if best == nil || cand.better(*best) {
			best = &cand
		}
	}
	if best == nil {
		return "", false
	}
	return best.word, true
}

// typoCand is a correction candidate and what ranks it.
type typoCand struct {
	word   string
	poor   bool
	dist   int
	subseq bool
	sim    float64
}

// better orders candidates: taught, fewer edits, missing letters, trigrams.
func (a typoCand) better(b typoCand) bool {
	switch {
	case a.poor != b.poor:
		return !a.poor
	case a.dist != b.dist:
		return a.dist < b.dist
	case a.subseq != b.subseq:
		return a.subseq
	}
	return a.sim > b.sim
}

// isSubsequence reports whether every letter of w appears in c, in order.
func isSubsequence(w, c string) bool {
	rw, i := []rune(w), 0
	for _, r := range c {
		if i < len(rw) && rw[i] == r {
			i++
		}
	}
	return i == len(rw)
}

// trigrams are pg_trgm's: the word padded with two spaces before and one
// after, cut into every 3-rune window.
func trigrams(w string) map[string]bool {
	r := []rune("  " + w + " ")
	out := make(map[string]bool, len(r))
	for i := 0; i+3 <= len(r); i++ {
		out[string(r[i:i+3])] = true
	}
	return out
}

// jaccard is the similarity of two trigram sets: |A∩B| / |A∪B|, 0 when both
// are empty.
func jaccard(a, b map[string]bool) float64 {
	common := 0
	for g := range a {
		if b[g] {
			common++
		}
	}
	union := len(a) + len(b) - common
	if union == 0 {
		return 0
	}
	return float64(common) / float64(union)
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// adjacent transpositions) of a and b, or limit+1 once it exceeds limit.
func osaDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if abs(len(ra)-len(rb)) > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// abs is |n|.
func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
