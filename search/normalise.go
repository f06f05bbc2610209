package search

import (
	"slices"
	"strings"
)

// normalise is the first pass: plurals, verb forms and typos become known
// words, so every later pass sees the vocabulary's spelling. A corrected
// token remembers what was typed, and the correction is reported.
func (p *parser) normalise() {
	for i := range p.toks {
		t := &p.toks[i]
		t.typed = t.text
		w := t.text
		if p.ix.meaningful(w) || isNumber(w) || w == "$" || len([]rune(w)) < 3 {
			continue
		}
		if s, ok := p.ix.inflection(w); ok {
			t.text = s
			continue
		}
		if p.ix.words[w] { // part of a longer phrase ("dancing" in "ballroom dancing")
			continue
		}
		if p.exact {
			continue
		}
		if c, ok := p.ix.correct(w); ok {
			t.text, t.corrected = c, true
			if p.out.Corrections == nil {
				p.out.Corrections = map[string]string{}
			}
			p.out.Corrections[p.q[t.start:t.end]] = c
		} else if sw := nearStopword(w); sw != "" {
			t.text = sw // "lesons": dropped like "lessons", not searched as text
		}
	}
}

// meaningful reports whether w means something on its own: a phrase of one
// word, a word of the grammar, a level or a stopword.
func (ix *Index) meaningful(w string) bool {
	return ix.phrases[w] != nil || grammarWords[w] || levelOf(w) != "" || stopwords[w]
}

// inflection maps a plural or verb form onto a known word: "pianos" →
// "piano", "cook" → "cooking", "dancing" → "dance".
func (ix *Index) inflection(w string) (string, bool) {
	var forms []string
	if s, ok := strings.CutSuffix(w, "es"); ok {
		forms = append(forms, s)
	}
	if s, ok := strings.CutSuffix(w, "s"); ok {
		forms = append(forms, s)
	}
	if s, ok := strings.CutSuffix(w, "ing"); ok {
		forms = append(forms, s, s+"e")
	}
	forms = append(forms, w+"ing")
	for _, f := range forms {
		if len(f) >= 3 && ix.meaningful(f) && !stopwords[f] {
			return f, true
		}
	}
	return "", false
}

// nearStopword is the stopword of 5+ letters one edit from w ("lesons" →
// lessons, "tuter" → tutor), or "".
func nearStopword(w string) string {
	if len(w) < 5 {
		return ""
	}
	for _, sw := range longStopwords {
		if osaDistance(w, sw, 1) <= 1 {
			return sw
		}
	}
	return ""
}

// longStopwords are the stopwords of 5+ letters, in order.
var longStopwords = func() []string {
	var out []string
	for w := range stopwords {
		if len(w) >= 5 {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}()
