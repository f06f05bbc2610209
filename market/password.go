package market

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Password length is counted in bytes: bcrypt reads at most 72.
const (
	MinPasswordBytes = 8
	MaxPasswordBytes = 72
)

// MinPasswordScore is the lowest zxcvbn score (0–4) a new password may
// have: 3 is "safely unguessable: moderate protection from an offline
// slow-hash scenario" (about 10^10 guesses).
const MinPasswordScore = 3

// minPersonalPart is the shortest piece of a name or email that a password
// may not contain: shorter pieces ("al", "li") are everywhere.
const minPersonalPart = 4

// PasswordProblem says what is wrong with a new password ("" when it is
// acceptable), as a phrase that follows the field's name ("Password is too
// easy to guess…"). Registration and reset share it. personal are the
// account's own words (full name, email): a password may not contain any
// of their parts of four letters or more, and zxcvbn counts them as
// guessable too.
func PasswordProblem(pw string, personal ...string) string {
	switch {
	case len(pw) < MinPasswordBytes || len(pw) > MaxPasswordBytes:
		return fmt.Sprintf("must be %d to %d bytes long", MinPasswordBytes, MaxPasswordBytes)
	case !utf8.ValidString(pw):
		return "must be valid UTF-8 text"
	}
	parts := personalParts(personal)
	lower := strings.ToLower(pw)
	for _, p := range parts {
		if strings.Contains(lower, p) {
			return "must not contain your name or email address"
		}
	}
	if zxcvbn.PasswordStrength(pw, parts).Score < MinPasswordScore {
		return "is too easy to guess: add a few more words or characters, and avoid common words, names, dates and keyboard patterns"
	}
	return ""
}

// PasswordScore is zxcvbn's 0–4 score of pw (what the page's meter shows).
func PasswordScore(pw string, personal ...string) int {
	return zxcvbn.PasswordStrength(pw, personalParts(personal)).Score
}

// personalParts splits names and emails into lower-case letter-or-digit
// runs of at least minPersonalPart runes ("ana.diaz@example.com" → "diaz",
// "example"); the email's domain suffix ("com") is too short to count.
func personalParts(personal []string) []string {
	var out []string
	for _, s := range personal {
		if local, _, ok := strings.Cut(s, "@"); ok {
			s = local // the domain is shared by many accounts
		}
		for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(f) >= minPersonalPart {
				out = append(out, f)
			}
		}
	}
	return out
}
