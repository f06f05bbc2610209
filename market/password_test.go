package market

import (
	"strings"
	"testing"
)

func TestPasswordProblemRefusesShortWeakAndPersonalPasswords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw, want string
		personal       []string
	}{
		{"the seed password is strong enough", "TestPassword123!", "", []string{"Sarah Chen", "sarah.chen@example.com"}},
		{"a passphrase", "correct horse battery staple", "", nil},
		{"too short", "Ab1!", "bytes long", nil},
		{"too long", strings.Repeat("x", 73), "bytes long", nil},
		{"not UTF-8", "abc\xffdefgh", "UTF-8", nil},
		{"the word password", "password", "too easy", nil},
		{"digits", "12345678", "too easy", nil},
		{"a keyboard walk", "qwertyuiop", "too easy", nil},
		{"the first name", "Sarah-7391-xq!", "name or email", []string{"Sarah Chen", "s.c@example.com"}},
		{"the email's local part", "xq!jdoe99-Lk", "name or email", []string{"Al Li", "jdoe99@example.com"}},
		{"short name parts do not count", "AlLi-horse-battery", "", []string{"Al Li", "al@example.com"}},
		{"the email's domain does not count", "example-horse-battery-7", "", []string{"Ana Diaz", "ana@example.com"}},
	}
	for _, tc := range tests {
		got := PasswordProblem(tc.pw, tc.personal...)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: PasswordProblem(%q) = %q, want %q", tc.name, tc.pw, got, tc.want)
		}
	}
	if s := PasswordScore("password"); s != 0 {
		t.Errorf("PasswordScore(password) = %d, want 0", s)
	}
}
