package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestProductionRefusesEverySecretWrittenInTheRepository scans the
// repository for string literals that look like JWT secrets (32+
// characters with "secret" in them, or a JWT_SECRET= value) and checks
// that production refuses each: a secret in a test or a compose file is a
// published secret.
func TestProductionRefusesEverySecretWrittenInTheRepository(t *testing.T) {
	literal := regexp.MustCompile(`"([^"\s]{32,})"`)
	assign := regexp.MustCompile(`JWT_SECRET[=:]\s*['"]?([^\s'"$]{16,})`)
	found := map[string]string{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == ".tools" || n == "node_modules" || n == "static" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".yml", ".yaml", ".md", ".sh", ".example", ".env":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if strings.Contains(strings.ToLower(m[1]), "secret") {
				found[m[1]] = path
			}
		}
		for _, m := range assign.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 3 {
		t.Fatalf("found only %d candidate secrets; is the scan looking at the repository?", len(found))
	}
	for s, path := range found {
		if weakSecret(s) == "" {
			t.Errorf("production would accept %q, written in %s", s, path)
		}
	}
}
