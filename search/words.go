package search

import "strings"

// Fixed words that are not grammar: the level words and the words that
// carry no meaning for the search.

// levelWords maps a level to the bio words that show it (English stems are
// applied by Postgres, so "beginner" also finds "beginners").
var levelWords = map[string][]string{
	"beginner":     {"beginner", "first", "new", "start"},
	"intermediate": {"intermediate"},
	"advanced":     {"advanced", "conservatory", "tournament", "serious"},
	"kids":         {"kid", "child", "children", "young", "grade", "school"},
	"teens":        {"teen", "teenager", "high", "school", "student"},
	"adults":       {"adult"},
	"seniors":      {"senior", "older", "age"},
}

// LevelTSQuery is a level's bio words as a tsquery OR-group ("kid |
// child | …"). The words are constants of this package, so the result is
// always valid to_tsquery input.
func LevelTSQuery(level string) string { return strings.Join(levelWords[level], " | ") }

// levelOf returns the level a word names ("kids" → kids), or "".
func levelOf(w string) string {
	switch w {
	case "beginner", "beginners", "novice", "novices", "newbie", "basics":
		return "beginner"
	case "intermediate":
		return "intermediate"
	case "advanced", "expert", "pro", "professional":
		return "advanced"
	case "kid", "kids", "child", "children", "toddler", "toddlers", "son", "daughter":
		return "kids"
	case "teen", "teens", "teenager", "teenagers", "highschool":
		return "teens"
	case "adult", "adults", "grownup", "grownups":
		return "adults"
	case "senior", "seniors", "elderly":
		return "seniors"
	}
	return ""
}

// stopwords carry no meaning for the search: they are dropped, not
// reported as unmatched.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the i im me my we our us you your for in on at near around by with and or
		to of from who that which what where when can could would will want wants wanted need needs looking look
		find finding search some someone somebody anyone any teacher teachers tutor tutors tutoring instructor
		instructors coach coaches coaching lesson lessons class classes course courses session sessions private
		help learn learning teach teaches teaching how please good best great top nearby local available
		availability free open time times slot slots book booking nyc ny city area neighborhood neighbourhood is
		are be like love get just really very also about between start starting x is it its this that these
		those there here do does done lessons training trainer's one-on-one 1on1 online person in-person home
		house place studio who'd i'd want to up something new york prep test exam exams preparation`) {
		m[w] = true
	}
	// "new" and "york" are stopwords only as a pair in practice; "new"
	// also shows beginners in bios, which the level words cover.
	return m
}()

// isStopword reports whether w carries no meaning for the search.
func isStopword(w string) bool { return stopwords[w] }

// genericServiceWord are words of service names too vague to mean those
// services on their own ("skills" → Knife, Soccer, Study…).
var genericServiceWord = map[string]bool{
	"skills": true, "basics": true, "prep": true, "making": true, "building": true, "first": true,
	"design": true, "development": true, "ride": true, "learn": true, "writing": true, "english": true,
	"and": true, "with": true, "your": true, "hand": true, "for": true, "second": true, "language": true,
	"environment": true, "living": true, "nys": true, "training": true, "coaching": true, "dance": true,
}
