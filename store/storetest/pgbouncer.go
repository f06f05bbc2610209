package storetest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"instainstru/internal/eventually"
)

// PgBouncer starts a private pgbouncer in pool_mode=transaction in front of
// the Postgres server of dbURL (any database on it, as user postgres), on a
// free port, stopped in cleanup, and returns dbURL rewritten to go through
// it. The server side is capped at the harness's pool size, so two nodes'
// pools really share (and multiplex) a few server connections.
//
// It skips tb only when the pgbouncer binary is not installed (make test's
// tools step installs it: deploy/check.sh --install-only). pgbouncer
// refuses to run as root, so under root it runs as user postgres.
func PgBouncer(tb testing.TB, dbURL string) string {
	skipInShortMode(tb)
	tb.Helper()
	bin, err := pgbouncerBinary()
	if err != nil {
		tb.Skipf("storetest: %v (make tools installs it)", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatalf("storetest: pgbouncer: %v", err)
	}
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	dir, cred, err := pgbouncerDir()
	if err != nil {
		tb.Fatalf("storetest: pgbouncer: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	ini := filepath.Join(dir, "pgbouncer.ini")
	conf := fmt.Sprintf(`[databases]
* = host=%s port=%s user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = 500
server_lifetime = 3600
logfile = %s
`, u.Hostname(), u.Port(), port, testPoolConns, filepath.Join(dir, "pgbouncer.log"))
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, ini)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("storetest: start pgbouncer: %v", err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have died; Wait reports nothing we need
		cmd.Wait()                          //nolint:errcheck
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !eventually.Within(10*time.Second, func() bool { return answers(addr) }) {
		log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
		tb.Fatalf("storetest: pgbouncer did not listen on %s: %s", addr, log)
	}
	u.Host = addr
	return u.String()
}

func pgbouncerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil { // Debian's, off a non-root PATH
		return "/usr/sbin/pgbouncer", nil
	}
	return "", fmt.Errorf("pgbouncer is not installed")
}

// pgbouncerDir makes a directory for its config and log that the user it
// runs as can use, and that user's credential (nil = this process's).
func pgbouncerDir() (string, *syscall.Credential, error) {
	dir, err := os.MkdirTemp("", "instainstru-pgbouncer-")
	if err != nil {
		return "", nil, err
	}
	if os.Geteuid() != 0 {
		return dir, nil, nil
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		return "", nil, fmt.Errorf("running as root and no user postgres to run pgbouncer as: %w", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return "", nil, err
	}
	return dir, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
