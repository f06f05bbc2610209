package store_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyStoretestReachesThePool keeps pgx behind the store boundary: no
// production file outside store/storetest names the tests' pool hook.
func TestOnlyStoretestReachesThePool(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || (strings.HasPrefix(name, ".") && p != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") ||
			filepath.Dir(p) == filepath.Join(root, "store", "storetest") || p == filepath.Join(root, "store", "testhook.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "PoolForTests") {
			t.Errorf("%s names store.PoolForTests: production code must use store.DB's methods", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
