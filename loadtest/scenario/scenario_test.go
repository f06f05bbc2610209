package scenario

import (
	"instainstru/loadtest/config"
	"strings"
	"testing"
)

func TestEmailFromNameMatchesSeededAccounts(t *testing.T) {
	for name, want := range map[string]string{
		"Sarah Chen":        "sarah.chen@example.com",
		"James O'Brien":     "james.obrien@example.com",
		"Michael Rodriguez": "michael.rodriguez@example.com",
	} {
		if got := emailFromName(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestIdleRefusesMoreSocketsThanFitWithAClearMessage(t *testing.T) {
	c, _ := config.NewConfig("idle-conns", []string{"http://127.0.0.1:1"})
	c.Watchers, c.Procs = 1_000_000, 1
	_, err := Run(t.Context(), c, nil)
	if err == nil || !strings.Contains(err.Error(), "-procs") || !strings.Contains(err.Error(), "open-files") {
		t.Fatalf("got %v, want a message naming the open-files limit and -procs", err)
	}
}
