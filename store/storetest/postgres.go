// Package storetest is the hermetic test harness every test uses: a fresh
// Postgres database copied from a migrated template, and Redis either shared
// (with a unique key/channel prefix) or a private redis-server the test can
// kill and restart. It never touches databases it did not create.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/jobs"
	"instainstru/migrations"
	"instainstru/store"
)

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
)

// skipInShortMode keeps `go test -short ./...` the fast tier: tests that
// need a real Postgres, Redis or Mailpit are not run there (make test runs
// them all, without -short).
func skipInShortMode(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs a real server: not in the -short tier")
	}
}

// AdminURL returns a URL of a Postgres server the tests may create databases
// on: TEST_DATABASE_URL, else 127.0.0.1:5432, else a throwaway cluster
// started with the installed binaries (stopped when the process exits is not
// possible from a library, so it lives in a temp dir that the OS reclaims).
func AdminURL() (string, error) {
	adminOnce.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		local := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		if answers("127.0.0.1:5432") {
			adminURL = local
			return
		}
		adminURL, adminErr = startCluster()
	})
	return adminURL, adminErr
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// startCluster runs initdb + pg_ctl in a temp dir on a free port.
func startCluster() (string, error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "instainstru-pg-")
	if err != nil {
		return "", err
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust").CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir)
	if out, err := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		return "", fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

func pgBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no Postgres at 127.0.0.1:5432 and no initdb found: set TEST_DATABASE_URL")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// FreePort asks the kernel for an unused TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// templateName is derived from the migrations' content, so a changed schema
// gets a new template and an old one is never reused by mistake.
func templateName() string {
	h := sha256.New()
	fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err == nil && !d.IsDir() {
			b, _ := migrations.FS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	h.Write([]byte(jobs.SchemaVersion())) // River's tables are in the template too
	return "instainstru_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

func withDB(url, name string) string {
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}

// ensureTemplate creates the migrated template once per schema version.
// The caller holds the advisory lock (templateLock) that serialises test
// packages running in parallel, across checkouts too, until it has copied
// the template: another checkout's schema drops stale templates, and must
// not drop this one between its creation and the copy. The
// template is built under a temporary name and renamed when complete, so a
// crashed run never leaves a half-migrated template behind under the real name.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	name := templateName()
	// Templates of earlier schemas were made by this harness (same prefix)
	// and are never used again; one in use by a concurrent run of another
	// checkout refuses to drop, which is fine.
	rows, qerr := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'instainstru\_tmpl\_%' AND datname <> $1`, name)
	if qerr == nil {
		stale, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, old := range stale {
			admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{old}.Sanitize()) //nolint:errcheck
		}
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := fmt.Sprintf("%s_build_%d", name, os.Getpid())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, err := store.Open(ctx, withDB(base, building))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		admin.Exec(ctx, "DROP DATABASE "+building+" WITH (FORCE)") //nolint:errcheck
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	return name, nil
}

// NewDatabaseURL creates a fresh, migrated database for tb and drops it in
// tb's cleanup. It returns the database's URL.
func NewDatabaseURL(tb testing.TB) string {
	skipInShortMode(tb)
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base, err := AdminURL()
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("storetest: connect admin: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		tb.Fatalf("storetest: template lock: %v", err)
	}
	tmpl, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		tb.Fatalf("storetest: template: %v", err)
	}
	name := "instainstru_test_" + RandomSuffix()
	_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", name, tmpl))
	admin.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck // the session ends right after
	if err != nil {
		tb.Fatalf("storetest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("storetest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("storetest: drop %s: %v", name, err)
		}
	})
	return withPoolLimit(withDB(base, name))
}

// testPoolConns caps every pool opened on a test database (pgx reads the
// first pool_max_conns of a URL, so the nodes' smaller pools keep it too).
// Tests run side by side on one shared Postgres (max_connections 100 here):
// without a cap, two nodes of two parallel tests could ask for more than it
// has, and tests would fail for a reason that is not theirs.
const testPoolConns = 8

func withPoolLimit(url string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%spool_max_conns=%d", url, sep, testPoolConns)
}

// NewDB returns an open store.DB on a fresh database, closed in cleanup.
func NewDB(tb testing.TB) *store.DB {
	tb.Helper()
	url := NewDatabaseURL(tb)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("storetest: open: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}
