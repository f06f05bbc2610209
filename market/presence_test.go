package market

import "testing"

func TestPresenceViewerCountsUsersOnceAnonymousPerConnectionNotTheInstructor(t *testing.T) {
	const ins = "11111111-1111-1111-1111-111111111111"
	tests := []struct {
		name, topic, user, conn string
		want                    string
		counted                 bool
	}{
		{"signed-in student", "availability:" + ins, "u1", "c1", "u:u1", true},
		{"same student, another tab", "availability:" + ins, "u1", "c2", "u:u1", true},
		{"anonymous", "availability:" + ins, "", "c3", "c:c3", true},
		{"the instructor on their own week", "availability:" + ins, ins, "c4", "", false},
		{"a private topic", "user:u1", "u1", "c1", "", false},
		{"no instructor id", "availability:", "u1", "c1", "", false},
		{"anonymous without a connection id", "availability:" + ins, "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, counted := PresenceViewer(tc.topic, tc.user, tc.conn)
			if got != tc.want || counted != tc.counted {
				t.Fatalf("PresenceViewer = %q, %v; want %q, %v", got, counted, tc.want, tc.counted)
			}
		})
	}
}

func TestPresenceIsShownFromTwoViewers(t *testing.T) {
	for n, want := range map[int]bool{0: false, 1: false, 2: true, 40: true} {
		if PresenceShown(n) != want {
			t.Errorf("PresenceShown(%d) = %v", n, !want)
		}
	}
}
