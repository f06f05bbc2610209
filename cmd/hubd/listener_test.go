package main

import (
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"instainstru/store/storetest"
)

// childEnv makes the test binary run `hubd serve` under a descriptor
// limit of 1024, like a node started after `ulimit -n 1024`.
const childEnv = "HUBD_TEST_SERVE_NOFILE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		lim := syscall.Rlimit{Cur: 1024, Max: 1024}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(2)
		}
		if err := run([]string{"serve"}); err != nil {
			fmt.Fprintln(os.Stderr, "hubd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestServeSurvivesMoreIdleConnectionsThanDescriptors(t *testing.T) {
	dbURL := storetest.NewDatabaseURL(t)
	port, err := storetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "APP_ENV=test", "DATABASE_URL="+dbURL,
		"HTTP_ADDR="+addr, "JOB_WORKERS=0", "REDIS_URL=", "REDIS_CLUSTER_ADDRS=", "ADMIN_ADDR=",
		"MAX_CONNECTIONS=", "FD_RESERVE=")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when hubd has exited; exitErr is then its status.
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-exited
		}
		t.Logf("hubd exit: %v", exitErr)
		if t.Failed() {
			t.Logf("hubd output:\n%s", tail(logs.String(), 3000))
		}
	})
	waitHealthy(t, addr, 30*time.Second, exited)
	t.Logf("hubd serves on %s", addr)

	conns := make([]net.Conn, 0, 1100)
	for range 1100 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	last := conns[len(conns)-1]
	last.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	if b, _ := io.ReadAll(last); !strings.HasPrefix(string(b), "HTTP/1.1 503") {
		t.Errorf("connection past the cap got %q, want a 503", b)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case <-exited:
		t.Fatalf("hubd exited with 1,100 idle connections open: %v", exitErr)
	default:
	}
	for _, c := range conns {
		c.Close() //nolint:errcheck
	}
	waitHealthy(t, addr, 10*time.Second, exited)
	// Postgres is still reachable from the node (its reserve held).
	if code := get(t, "http://"+addr+"/ready"); code != 200 {
		t.Fatalf("/ready after the flood = %d, want 200", code)
	}
}

func waitHealthy(t *testing.T, addr string, within time.Duration, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		select {
		case <-exited:
			t.Fatal("hubd exited")
		default:
		}
		if get(t, "http://"+addr+"/health") == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health not 200 within %v", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get returns the status of GET url, 0 when it could not be fetched.
func get(t *testing.T, url string) int {
	t.Helper()
	cl := &nethttp.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()              //nolint:errcheck
	return resp.StatusCode
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
