package search

import (
	"regexp"
	"slices"
	"strings"

	"instainstru/market"
)

// MaxRelaxations bounds the wider searches proposed for an empty result
// (each costs the store one more search to count).
const MaxRelaxations = 8

// Relax proposes searches one constraint wider than q (parsed as pq),
// nearest first and without counts (the store counts them by running
// them): no price cap, any day or time, any length, the area's borough,
// the service in the area without its other limits, anywhere, the service
// alone, and at last the other boroughs. For a service nobody teaches,
// only related taught services are proposed (here, then anywhere). Each is
// q with a chip's words removed or replaced, so following it re-parses the
// same way. At most MaxRelaxations, no query twice, never q itself.
func (ix *Index) Relax(q string, pq market.SearchQuery) []market.SearchRelaxation {
	var out []market.SearchRelaxation
	add := func(kind, label, nq string) {
		nq = tidy(nq)
		if nq == "" || strings.EqualFold(nq, tidy(q)) || len(out) == MaxRelaxations ||
			slices.ContainsFunc(out, func(r market.SearchRelaxation) bool { return r.Query == nq }) {
			return
		}
		out = append(out, market.SearchRelaxation{Kind: kind, Label: label, Query: nq})
	}
	chips := func(kinds ...string) []market.Chip {
		var cs []market.Chip
		for _, c := range pq.Chips {
			if slices.Contains(kinds, c.Kind) {
				cs = append(cs, c)
			}
		}
		return cs
	}
	without := func(cs []market.Chip) string {
		nq := q
		for _, c := range cs {
			nq = ReplaceWords(nq, c.Source, "")
		}
		return nq
	}
	if cs := chips("price"); len(cs) > 0 {
		add("price", "any price", without(cs))
	}
	if cs := chips("day", "time"); len(cs) > 0 {
		add("time", "any day or time", without(cs))
	}
	if cs := chips("duration"); len(cs) > 0 {
		add("duration", "any length", without(cs))
	}
	areas := chips("area")
	for _, c := range areas {
		if b := ix.AreaBorough(c.Label); b != "" && b != c.Label {
			add("area", "all of "+b, ReplaceWords(q, c.Source, b))
		}
	}
	if untaught(pq) {
		// Nobody teaches it anywhere: other places would not help.
		ix.relaxServices(q, pq, without(areas), add)
		return out
	}
	if others := chips("price", "day", "time", "duration", "level"); len(areas) > 0 && len(others) > 0 {
		nq := without(others)
		add("only", "only "+tidy(nq), nq)
	}
	if len(areas) > 0 {
		add("area", "anywhere", without(areas))
	}
	if svc := chips("service"); len(svc) > 0 && len(svc) < len(pq.Chips) {
		var words []string
		for _, c := range svc {
			words = append(words, c.Source)
		}
		add("service", "only "+strings.Join(words, " "), strings.Join(words, " "))
	}
	for _, c := range areas {
		for _, b := range ix.Boroughs() {
			if b != c.Label && b != ix.AreaBorough(c.Label) {
				add("area", "in "+b, ReplaceWords(q, c.Source, b))
			}
		}
	}
	return out
}

// untaught reports whether pq names services and nobody teaches any of them.
func untaught(pq market.SearchQuery) bool {
	return len(pq.Services) > 0 &&
		!slices.ContainsFunc(pq.Services, func(s market.ServiceMatch) bool { return s.InstructorCount > 0 })
}

// relaxServices proposes the taught services of the category of the
// untaught one pq names in its place: in q as written, then in anywhere (q
// without its places, when it had any).
func (ix *Index) relaxServices(q string, pq market.SearchQuery, anywhere string, add func(kind, label, nq string)) {
	var src string
	for _, c := range pq.Chips {
		if c.Kind == "service" {
			src = c.Source
			break
		}
	}
	related := ix.Related(pq.Services[0].Slug, 5)
	for _, text := range []string{q, anywhere} {
		for _, r := range related {
			if src == "" {
				add("service", r.Name, r.Name)
				continue
			}
			label := r.Name
			if text != q {
				label += " anywhere"
			}
			add("service", label, ReplaceWords(text, src, r.Name))
		}
	}
}

// ReplaceWords replaces the first case-insensitive occurrence of src in q
// with repl; when repl is empty, a preposition just before src ("in
// queens", "near les") goes too.
func ReplaceWords(q, src, repl string) string {
	i := strings.Index(strings.ToLower(q), strings.ToLower(src))
	if i < 0 || src == "" {
		return q
	}
	before, after := q[:i], q[i+len(src):]
	if repl == "" {
		before = trailingPreposition.ReplaceAllString(before, " ")
	}
	return tidy(before + " " + repl + " " + after)
}

// trailingPreposition is a place preposition at the end of a text.
var trailingPreposition = regexp.MustCompile(`(?i)(^|\s)(in|near|around|at|by|on|for)\s*$`)

// tidy collapses runs of spaces and trims.
func tidy(s string) string { return strings.Join(strings.Fields(s), " ") }

// Corrected is q with each typo correction put in place of the word typed
// ("violn lessons" → "violin lessons"): the query a "did you mean" shows.
// It is q when there were no corrections.
func Corrected(q string, corrections map[string]string) string {
	typed := make([]string, 0, len(corrections))
	for t := range corrections {
		typed = append(typed, t)
	}
	slices.Sort(typed)
	for _, t := range typed {
		q = ReplaceWords(q, t, corrections[t])
	}
	return tidy(q)
}
