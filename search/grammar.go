package search

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"instainstru/market"
)

// Grammar: the fixed phrases of a query that are not vocabulary — price
// caps, lesson lengths, days, parts of the day and school levels.

// grammar is the second pass: it reads prices, lengths, days, times and
// school levels, each into a chip.
func (p *parser) grammar() {
	for i := 0; i < len(p.toks); i++ {
		if p.used[i] {
			continue
		}
		if n, j, ok := parsePrice(p.toks, i); ok {
			p.out.MaxPriceCents = n
			p.chip("price", "under $"+strconv.Itoa(n/100), i, j)
			i = j - 1
			continue
		}
		if n, j, ok := parseDuration(p.toks, i); ok {
			p.out.DurationMinutes = n
			p.chip("duration", strconv.Itoa(n)+" min", i, j)
			i = j - 1
			continue
		}
		i += p.when(i)
	}
}

// when reads a day, a part of the day or a school level at toks[i] and
// returns how many tokens past i it took (0 when it read one word or
// nothing).
func (p *parser) when(i int) int {
	w, next := wordAt(p.toks, i), wordAt(p.toks, i+1)
	switch {
	case (w == "this" || w == "next") && (next == "weekend" || next == "weekends" || next == "week"):
		p.out.Scope = market.ScopeThisWeek
		if w == "next" {
			p.out.Scope = market.ScopeNextWeek
		}
		label := w + " week"
		if strings.HasPrefix(next, "weekend") {
			addDays(&p.out, time.Saturday, time.Sunday)
			label = w + " weekend"
		}
		p.chip("day", label, i, i+2)
		return 1
	case w == "today" || w == "tonight":
		p.out.Scope = market.ScopeToday
		if w == "tonight" {
			p.out.TimeOfDay = "evening"
		}
		p.chip("day", w, i, i+1)
	case w == "tomorrow":
		p.out.Scope = market.ScopeTomorrow
		p.chip("day", w, i, i+1)
	case dayWords[w] != nil:
		addDays(&p.out, dayWords[w]...)
		if timeWords[w] != "" { // "weeknights"
			p.out.TimeOfDay = timeWords[w]
		}
		p.chip("day", w, i, i+1)
	case timeWords[w] != "":
		p.out.TimeOfDay = timeWords[w]
		p.chip("time", timeWords[w], i, i+1)
	default:
		return p.schoolOrClock(i, w, next)
	}
	return 0
}

// schoolOrClock reads "high school", "after work" or "7 pm" at toks[i]:
// 1 when it took both words, else 0.
func (p *parser) schoolOrClock(i int, w, next string) int {
	switch {
	case (w == "high" || w == "middle" || w == "elementary" || w == "grade") && next == "school":
		lv := map[string]string{"high": "teens", "middle": "teens", "elementary": "kids", "grade": "kids"}[w]
		p.out.Levels = appendOnce(p.out.Levels, lv)
		p.chip("level", lv, i, i+2)
		return 1
	case w == "after" && (next == "school" || next == "work"):
		p.out.TimeOfDay = map[string]string{"school": "afternoon", "work": "evening"}[next]
		p.chip("time", p.out.TimeOfDay, i, i+2)
		return 1
	case isNumber(w) && (next == "am" || next == "pm"):
		h, _ := strconv.Atoi(w)
		if tod := clockPart(h, next == "pm"); tod != "" {
			p.out.TimeOfDay = tod
			p.chip("time", tod, i, i+2)
			return 1
		}
	}
	return 0
}

// addDays adds ds to q's days, each once.
func addDays(q *market.SearchQuery, ds ...time.Weekday) {
	for _, d := range ds {
		if !slices.Contains(q.Days, d) {
			q.Days = append(q.Days, d)
		}
	}
}

// wordAt is the folded text of toks[k], or "" past the end.
func wordAt(toks []token, k int) string {
	if k < len(toks) {
		return toks[k].text
	}
	return ""
}

// parsePrice reads a price cap at toks[i]: "under $80", "less than 100
// dollars", "max 90", "$80 or less", "up to 75/hr", or a bare "$80".
// A number followed by a time unit is a length, not a price.
func parsePrice(toks []token, i int) (cents, end int, ok bool) {
	w := func(k int) string { return wordAt(toks, k) }
	j, qualified := priceQualifier(toks, i)
	dollar := false
	if w(j) == "$" {
		dollar = true
		j++
	}
	if !isNumber(w(j)) {
		return 0, 0, false
	}
	f, err := strconv.ParseFloat(w(j), 64)
	if err != nil || f <= 0 || f > 100000 {
		return 0, 0, false
	}
	j++
	if !dollar && (durationUnit(w(j)) != 0 || w(j) == "am" || w(j) == "pm") {
		return 0, 0, false
	}
	switch w(j) {
	case "$", "dollar", "dollars", "usd", "bucks":
		dollar = true
		j++
	}
	if w(j) == "per" || w(j) == "an" || w(j) == "a" {
		if w(j+1) == "hour" || w(j+1) == "hr" || w(j+1) == "lesson" || w(j+1) == "session" {
			j += 2
		}
	} else if w(j) == "hr" || w(j) == "hour" || w(j) == "hourly" {
		j++
	}
	if w(j) == "or" && (w(j+1) == "less" || w(j+1) == "under" || w(j+1) == "cheaper" || w(j+1) == "below") {
		j += 2
		qualified = true
	} else if w(j) == "max" || w(j) == "maximum" {
		j++
		qualified = true
	}
	if !qualified && !dollar {
		return 0, 0, false
	}
	return int(f*100 + 0.5), j, true
}

// priceQualifier reads the words that make a number a cap ("under", "less
// than", "up to", "at most", "no more than") at toks[i]: the index after
// them, and whether there were any.
func priceQualifier(toks []token, i int) (end int, qualified bool) {
	w := func(k int) string { return wordAt(toks, k) }
	switch {
	case w(i) == "under" || w(i) == "below" || w(i) == "max" || w(i) == "maximum" || w(i) == "within":
		return i + 1, true
	case (w(i) == "less" || w(i) == "cheaper" || w(i) == "lower") && w(i+1) == "than":
		return i + 2, true
	case (w(i) == "up" || w(i) == "at") && (w(i+1) == "to" || w(i+1) == "most"):
		return i + 2, true
	case w(i) == "no" && (w(i+1) == "more" || w(i+1) == "over") && w(i+2) == "than":
		return i + 3, true
	}
	return i, false
}

// parseDuration reads a lesson length: "30 minute", "45 min", "1 hour",
// "1.5 hours", "an hour", "half hour", "half an hour".
func parseDuration(toks []token, i int) (minutes, end int, ok bool) {
	w := func(k int) string { return wordAt(toks, k) }
	switch {
	case w(i) == "half" && w(i+1) == "hour":
		return 30, i + 2, true
	case w(i) == "half" && w(i+1) == "an" && w(i+2) == "hour":
		return 30, i + 3, true
	case (w(i) == "an" || w(i) == "one") && (w(i+1) == "hour" || w(i+1) == "hr") && w(i+2) != "from":
		return 60, i + 2, true
	case w(i) == "hour" && w(i+1) == "long":
		return 60, i + 2, true
	}
	if !isNumber(w(i)) {
		return 0, 0, false
	}
	unit := durationUnit(w(i + 1))
	if unit == 0 {
		return 0, 0, false
	}
	f, err := strconv.ParseFloat(w(i), 64)
	if err != nil {
		return 0, 0, false
	}
	n := int(f*float64(unit) + 0.5)
	if n < market.SlotMinutes || n > 8*60 {
		return 0, 0, false
	}
	j := i + 2
	if w(j) == "long" || w(j) == "lesson" || w(j) == "lessons" || w(j) == "session" || w(j) == "sessions" {
		// keep "lesson" for the stopword pass: it carries no meaning
		if w(j) == "long" {
			j++
		}
	}
	return n, j, true
}

// durationUnit is the minutes in one w ("hours" → 60), 0 for no unit.
func durationUnit(w string) int {
	switch w {
	case "min", "mins", "minute", "minutes", "m":
		return 1
	case "hour", "hours", "hr", "hrs", "h":
		return 60
	}
	return 0
}

// clockPart maps an hour with am/pm to a part of the day.
func clockPart(h int, pm bool) string {
	if h < 1 || h > 12 {
		return ""
	}
	if pm && h != 12 {
		h += 12
	}
	if !pm && h == 12 {
		h = 0
	}
	switch {
	case h >= 6 && h < 12:
		return "morning"
	case h >= 12 && h < 17:
		return "afternoon"
	case h >= 17 && h < 23:
		return "evening"
	}
	return ""
}

// dayWords are the words that name days of the week.
var dayWords = map[string][]time.Weekday{
	"monday": {time.Monday}, "mondays": {time.Monday}, "mon": {time.Monday},
	"tuesday": {time.Tuesday}, "tuesdays": {time.Tuesday}, "tue": {time.Tuesday}, "tues": {time.Tuesday},
	"wednesday": {time.Wednesday}, "wednesdays": {time.Wednesday}, "wed": {time.Wednesday},
	"thursday": {time.Thursday}, "thursdays": {time.Thursday}, "thu": {time.Thursday}, "thur": {time.Thursday}, "thurs": {time.Thursday},
	"friday": {time.Friday}, "fridays": {time.Friday}, "fri": {time.Friday},
	"saturday": {time.Saturday}, "saturdays": {time.Saturday},
	"sunday": {time.Sunday}, "sundays": {time.Sunday}, "sun": {time.Sunday},
	"weekend": {time.Saturday, time.Sunday}, "weekends": {time.Saturday, time.Sunday},
	"weekday":    {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekdays":   {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weeknight":  {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weeknights": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
}

// timeWords are the words that name a part of the day.
var timeWords = map[string]string{
	"morning": "morning", "mornings": "morning",
	"afternoon": "afternoon", "afternoons": "afternoon", "lunchtime": "afternoon",
	"evening": "evening", "evenings": "evening", "night": "evening", "nights": "evening",
	"weeknight": "evening", "weeknights": "evening",
}

// grammarWords are words the grammar reads; they are never "corrected".
var grammarWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range dayWords {
		m[w] = true
	}
	for w := range timeWords {
		m[w] = true
	}
	for _, w := range []string{"today", "tonight", "tomorrow", "this", "next", "week", "under", "below",
		"less", "than", "cheaper", "lower", "max", "maximum", "most", "more", "over", "dollar", "dollars", "usd",
		"bucks", "per", "hour", "hours", "hourly", "minute", "minutes", "min", "mins", "half", "long", "after",
		"school", "work", "am", "pm", "within", "one"} {
		m[w] = true
	}
	return m
}()
