package http

import (
	"os/exec"
	"strings"
	"testing"
)

// drivers are the modules of the database, job-queue and Redis clients:
// only the package named for each dependency (store/, jobs/, redis/) and
// cmd/ import them.
var drivers = []string{"github.com/jackc/pgx", "github.com/riverqueue/river", "github.com/redis/go-redis"}

// TestDepsHTTPDoesNotImportTheDatabase keeps the layering: handlers see the
// store and Redis through the interfaces of stores.go, tickets.go, server.go
// and ratelimit.go, so neither the store or redis package nor a database,
// job-queue or Redis driver is among http's dependencies.
func TestDepsHTTPDoesNotImportTheDatabase(t *testing.T) {
	banned := []string{"github.com/jackc/", "github.com/riverqueue/", "github.com/redis/",
		"github.com/gofiber/storage/", "instainstru/store", "instainstru/redis"}
	for _, dep := range listDeps(t, ".") {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("http depends on %s", dep)
			}
		}
	}
}

// TestDepsNoDriverInDomainPackages: the domain (market), the search parser,
// the hub and the http layer reach no driver, directly or through another
// package; search does not reach the store either (it depends on market only).
func TestDepsNoDriverInDomainPackages(t *testing.T) {
	for _, pkg := range []string{"instainstru/http", "instainstru/market", "instainstru/hub", "instainstru/search"} {
		for _, dep := range listDeps(t, pkg) {
			for _, d := range drivers {
				if strings.HasPrefix(dep, d) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
			if pkg == "instainstru/search" && dep == "instainstru/store" {
				t.Errorf("search depends on the store")
			}
		}
	}
}

// listDeps is `go list -deps pkg`: pkg and every package it imports,
// transitively (test files excluded).
func listDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list -deps %s listed nothing", pkg)
	}
	return deps
}
