package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// RandomSuffix is a short random lowercase hex string for unique names.
func RandomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b) //nolint:errcheck // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// SharedRedis returns the URL of the shared Redis (TEST_REDIS_URL, else
// 127.0.0.1:6379, else a private server) and a unique key/channel prefix the
// test must put in front of everything it writes.
func SharedRedis(tb testing.TB) (url, prefix string) {
	skipInShortMode(tb)
	tb.Helper()
	prefix = "t" + RandomSuffix() + ":"
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u, prefix
	}
	if answers("127.0.0.1:6379") {
		return "redis://127.0.0.1:6379/0", prefix
	}
	return StartRedis(tb).URL(), prefix
}

// Redis is a redis-server child process the test owns: it can be killed
// and restarted on the same port to test recovery.
type Redis struct {
	tb   testing.TB
	Port int
	cmd  *exec.Cmd
	args []string // extra redis-server arguments (cluster mode)
}

// StartRedis starts a private redis-server on a free port, killed in cleanup.
func StartRedis(tb testing.TB) *Redis {
	skipInShortMode(tb)
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("storetest: redis-server not installed: %v", err)
	}
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	r := &Redis{tb: tb, Port: port}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

// URL is the server's redis:// URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Start (re)starts the server on its port and waits until it answers.
func (r *Redis) Start() {
	r.tb.Helper()
	args := append([]string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning"}, r.args...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.tb.Fatalf("storetest: start redis: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.tb.Fatalf("storetest: redis on port %d did not answer", r.Port)
}

// Stop kills the server (SIGKILL: a crash, not a clean shutdown).
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Kill() //nolint:errcheck
	r.cmd.Wait()         //nolint:errcheck
	r.cmd = nil
}

// Pause stops the server process (SIGSTOP): connections stay open but
// nothing is answered, like a Redis stalled by the kernel or a long fork.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.tb.Helper()
	if r.cmd == nil || r.cmd.Process == nil {
		r.tb.Fatalf("storetest: redis is not running")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.tb.Fatalf("storetest: signal redis: %v", err)
	}
}
