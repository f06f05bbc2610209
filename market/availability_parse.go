package market

import (
	"fmt"
	"sort"
)

// StartProblem is what is wrong with c as the start of a window or a
// lesson ("" when nothing): it must lie before 24:00 and on a 15-minute
// boundary.
func StartProblem(c Clock) string {
	switch {
	case c >= 24*60:
		return "must be before 24:00"
	case !c.Aligned():
		return "must be on a 15-minute boundary"
	}
	return ""
}

// ParseWindows validates the windows of one day: HH:MM, 15-minute aligned,
// start before 24:00, end after start, no two overlapping (touching is
// fine). Problems are recorded in fields (one per window), under names
// prefixed with prefix ("days[2]." gives "days[2].windows[0].start"; ""
// gives "start", "end" and "windows"). The result, the valid windows, is
// sorted by start.
func ParseWindows(ws []WindowInput, prefix string, fields map[string]string) []Span {
	type indexed struct {
		s Span
		i int
	}
	var ok []indexed
	for i, w := range ws {
		p := fmt.Sprintf("%swindows[%d].", prefix, i)
		if prefix == "" {
			p = ""
		}
		s, err := ParseClock(w.Start)
		if err != nil {
			fields[p+"start"] = "must be a time HH:MM"
			continue
		}
		e, err := ParseClock(w.End)
		if err != nil {
			fields[p+"end"] = "must be a time HH:MM"
			continue
		}
		if problem := StartProblem(s); problem != "" {
			fields[p+"start"] = problem
			continue
		}
		if !e.Aligned() {
			fields[p+"end"] = "must be on a 15-minute boundary"
			continue
		}
		if e <= s {
			fields[p+"end"] = "must be after start"
			continue
		}
		ok = append(ok, indexed{Span{s, e}, i})
	}
	sort.SliceStable(ok, func(a, b int) bool { return ok[a].s[0] < ok[b].s[0] })
	out := make([]Span, 0, len(ok))
	for k, x := range ok {
		if k > 0 && x.s[0] < ok[k-1].s[1] {
			key := fmt.Sprintf("%swindows[%d]", prefix, x.i)
			if prefix == "" {
				key = "windows"
			}
			fields[key] = "overlaps another window on the same day"
			continue
		}
		out = append(out, x.s)
	}
	return out
}
