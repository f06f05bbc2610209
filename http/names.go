package http

import (
	"unicode"

	"instainstru/market"
)

// nameProblem says what is wrong with a person's display name, or "".
// Bidirectional overrides and other control characters are refused: they
// make a name display as something else ("evil‮gnp.exe") in the web page,
// emails and admin lists. Quotes and angle brackets are fine: emails
// encode the name (mail.Sender), the page escapes it.
func nameProblem(name string) string {
	if market.HasBidiControl(name) {
		return "must not contain bidirectional formatting characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}
