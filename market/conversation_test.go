package market

import (
	"strings"
	"testing"
)

func TestCanOpenAllowsStudentsAnyInstructorAndInstructorsOnlyTheirStudents(t *testing.T) {
	stud, inst := []string{RoleStudent}, []string{RoleInstructor}
	tests := []struct {
		name     string
		f        OpenFacts
		wantCode string // "" = allowed
		want     Pair
	}{
		{"student to active instructor", OpenFacts{OpenerID: "s", OpenerRoles: stud, OtherID: "i", OtherRoles: inst, OtherLive: true, OtherTeaches: true},
			"", Pair{StudentID: "s", InstructorID: "i"}},
		{"student to instructor role without profile", OpenFacts{OpenerID: "s", OpenerRoles: stud, OtherID: "i", OtherRoles: inst, OtherLive: true},
			EFORBIDDEN, Pair{}},
		{"student to another student", OpenFacts{OpenerID: "s", OpenerRoles: stud, OtherID: "t", OtherRoles: stud, OtherLive: true},
			EFORBIDDEN, Pair{}},
		{"student to a deleted instructor", OpenFacts{OpenerID: "s", OpenerRoles: stud, OtherID: "i", OtherRoles: inst, OtherTeaches: true},
			ENOTFOUND, Pair{}},
		{"anyone with themself", OpenFacts{OpenerID: "s", OpenerRoles: stud, OtherID: "s", OtherRoles: stud, OtherLive: true, OtherTeaches: true},
			EVALIDATION, Pair{}},
		{"instructor to a student who booked", OpenFacts{OpenerID: "i", OpenerRoles: inst, OtherID: "s", OtherRoles: stud, OtherLive: true, OtherBookedOpener: true},
			"", Pair{StudentID: "s", InstructorID: "i"}},
		{"instructor to a student who wrote first", OpenFacts{OpenerID: "i", OpenerRoles: inst, OtherID: "s", OtherRoles: stud, OtherLive: true, OtherWroteFirst: true},
			"", Pair{StudentID: "s", InstructorID: "i"}},
		{"instructor to a stranger", OpenFacts{OpenerID: "i", OpenerRoles: inst, OtherID: "s", OtherRoles: stud, OtherLive: true},
			EFORBIDDEN, Pair{}},
		{"instructor to another instructor", OpenFacts{OpenerID: "i", OpenerRoles: inst, OtherID: "j", OtherRoles: inst, OtherLive: true, OtherTeaches: true},
			EFORBIDDEN, Pair{}},
		{"admin to an instructor", OpenFacts{OpenerID: "a", OpenerRoles: []string{RoleAdmin}, OtherID: "i", OtherRoles: inst, OtherLive: true, OtherTeaches: true},
			EFORBIDDEN, Pair{}},
		{"instructor who also studies, to an instructor", OpenFacts{OpenerID: "i", OpenerRoles: []string{RoleInstructor, RoleStudent},
			OtherID: "j", OtherRoles: inst, OtherLive: true, OtherTeaches: true}, "", Pair{StudentID: "i", InstructorID: "j"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanOpen(tc.f)
			if tc.wantCode == "" {
				if err != nil || got != tc.want {
					t.Fatalf("CanOpen = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if ErrorCode(err) != tc.wantCode {
				t.Fatalf("CanOpen error %v, want code %s", err, tc.wantCode)
			}
		})
	}
}

func TestCanSendRefusesStrangersBlockedSendersAndDeletedRecipients(t *testing.T) {
	p := Pair{StudentID: "s", InstructorID: "i"}
	tests := []struct {
		name     string
		f        SendFacts
		wantCode string
	}{
		{"student", SendFacts{SenderID: "s", Pair: p}, ""},
		{"instructor", SendFacts{SenderID: "i", Pair: p}, ""},
		{"stranger", SendFacts{SenderID: "x", Pair: p}, ENOTFOUND},
		{"student blocked by instructor", SendFacts{SenderID: "s", Pair: p, BlockedBy: map[string]bool{"i": true}}, EBLOCKED},
		{"the blocker may still write", SendFacts{SenderID: "i", Pair: p, BlockedBy: map[string]bool{"i": true}}, ""},
		{"to a deleted account", SendFacts{SenderID: "i", Pair: p, OtherDeleted: true}, EFORBIDDEN},
		{"stranger when blocked still 404", SendFacts{SenderID: "x", Pair: p, BlockedBy: map[string]bool{"s": true, "i": true}}, ENOTFOUND},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CanSend(tc.f)
			if tc.wantCode == "" && err != nil || tc.wantCode != "" && ErrorCode(err) != tc.wantCode {
				t.Fatalf("CanSend = %v, want code %q", err, tc.wantCode)
			}
		})
	}
}

func TestNormalizeMessageBodyKeepsPlainTextOfOneTo2000Characters(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "Hi Sarah, do you teach beginners?", "Hi Sarah, do you teach beginners?", true},
		{"trimmed", "  hello \n", "hello", true},
		{"CRLF becomes LF", "a\r\nb\rc", "a\nb\nc", true},
		{"tabs and newlines stay", "a\tb\n\nc", "a\tb\n\nc", true},
		{"HTML is kept as text", "<b>bold</b> & <script>x</script>", "<b>bold</b> & <script>x</script>", true},
		{"2000 characters", strings.Repeat("é", 2000), strings.Repeat("é", 2000), true},
		{"2001 characters", strings.Repeat("a", 2001), "", false},
		{"empty", "", "", false},
		{"only spaces", " \n\t ", "", false},
		{"control character", "a\x07b", "", false},
		{"NUL", "a\x00b", "", false},
		{"invalid UTF-8", "a\xffb", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeMessageBody(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("NormalizeMessageBody(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && ErrorCode(err) != EVALIDATION {
				t.Fatalf("code %s, want %s", ErrorCode(err), EVALIDATION)
			}
		})
	}
}
