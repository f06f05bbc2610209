package http

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHTTPDoesNotImportTheDatabase keeps the layering: handlers see the
// store through the interfaces of stores.go, so neither the store package
// nor a database or job-queue driver is among http's dependencies.
func TestHTTPDoesNotImportTheDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/jackc/", "github.com/riverqueue/", "instainstru/store"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("http depends on %s", dep)
			}
		}
	}
}

// TestSearchDoesNotImportTheDatabase keeps the search parser pure: it
// depends on market only, never on the store or a database, job-queue or
// Redis driver.
func TestSearchDoesNotImportTheDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../search").Output()
	if err != nil {
		t.Fatalf("go list -deps ../search: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || deps[len(deps)-1] != "instainstru/search" {
		t.Fatalf("go list -deps ../search listed %q, want instainstru/search last", deps)
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/jackc/", "github.com/riverqueue/", "github.com/redis/", "instainstru/store"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("search depends on %s", dep)
			}
		}
	}
}
