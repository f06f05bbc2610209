package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Folding: how text becomes words. Queries and vocabulary phrases go
// through the same tokenizer, so they compare as plain strings.

// token is one word of the query with where it came from.
type token struct {
	text       string // folded
	start, end int    // byte offsets in the original query
	typed      string // folded text as typed, before a typo correction
	corrected  bool   // text is a typo correction of typed
}

// NormalizeQuery is the query folded and with runs of spaces collapsed:
// two queries with the same normalized form are the same search (history
// keeps one row for them).
func NormalizeQuery(q string) string {
	toks := tokenize(q)
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		words = append(words, t.text)
	}
	return strings.Join(words, " ")
}

// tokenize folds q and splits it into words, keeping each word's span.
// Letters and digits form words; a switch between letters and digits splits
// ("30min" → "30" "min"); "$" is a word of its own; "+" and "#" stay in a
// word ("c++"); apostrophes vanish ("hell's" → "hells"); a "." between
// digits stays ("1.5"); anything else separates.
func tokenize(q string) []token {
	var out []token
	var cur []rune
	start, last := -1, 0
	prevDigit := false
	flush := func(end int) {
		if len(cur) > 0 {
			out = append(out, token{text: string(cur), start: start, end: end})
		}
		cur, start = cur[:0], -1
	}
	for i, r := range q {
		size := utf8.RuneLen(r)
		if size < 0 {
			size = 1
		}
		f := foldRune(r)
		switch {
		case r == '\'' || r == '’':
			if len(cur) > 0 {
				last = i + size
			}
			continue
		case r == '.' && prevDigit && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			cur = append(cur, '.')
			last = i + size
			continue
		case r == '$':
			flush(last)
			out = append(out, token{text: "$", start: i, end: i + size})
			prevDigit = false
			continue
		case f != "" || r == '+' || r == '#':
			isDigit := unicode.IsDigit(r)
			if len(cur) > 0 && isDigit != prevDigit && r != '+' && r != '#' {
				flush(last)
			}
			if start < 0 {
				start = i
			}
			if f == "" {
				cur = append(cur, r)
			} else {
				cur = append(cur, []rune(f)...)
			}
			prevDigit = isDigit
			last = i + size
			continue
		}
		flush(last)
		prevDigit = false
	}
	flush(last)
	return out
}

// foldWords is tokenize without the spans, for vocabulary phrases.
func foldWords(s string) []string {
	toks := tokenize(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// foldRune lower-cases a letter or digit and strips common Latin accents;
// "" for anything else.
func foldRune(r rune) string {
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return ""
	}
	r = unicode.ToLower(r)
	if r < 0x80 {
		return string(r)
	}
	if f, ok := accentFold[r]; ok {
		return f
	}
	return string(r)
}

var accentFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ı': "i"}
	for base, letters := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćčĉċ", "e": "èéêëēĕėęě", "i": "ìíîïĩīĭį", "n": "ñńňņ",
		"o": "òóôõöōŏő", "u": "ùúûüũūŭůűų", "y": "ýÿŷ", "s": "śšşŝ", "z": "źżž", "g": "ğĝġģ", "r": "ŕřŗ",
		"t": "ţťŧ", "d": "ď", "l": "ĺľļ",
	} {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

// isNumber reports whether w is digits with at most one inner dot ("1.5").
func isNumber(w string) bool {
	if w == "" {
		return false
	}
	dot := false
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] >= '0' && w[i] <= '9':
		case w[i] == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

// textTerm is a typed word as a full-text term: letters and digits only,
// so it can be joined into a tsquery without any operator of its own.
func textTerm(w string) string {
	var b strings.Builder
	for _, r := range w {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

// titleCase upper-cases the first letter of every word.
func titleCase(s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		ws[i] = string(r)
	}
	return strings.Join(ws, " ")
}
