package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/config"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"instainstru/store/storetest"
)

// TestMain lets this test binary act as an idle-conns child process, as the
// real binary does when it re-executes itself.
func TestMain(m *testing.M) {
	if spec := os.Getenv(ChildEnv); spec != "" {
		os.Exit(ChildMain(spec))
	}
	os.Exit(m.Run())
}

// TestScenariosAgainstTwoNodes starts two real hubd nodes (fresh database,
// shared Redis with a private prefix) and runs the scenarios that fit in a
// test against them, in-process as an operator's run would.
func TestScenariosAgainstTwoNodes(t *testing.T) {
	cl := startCluster(t, 2)
	t.Run("smoke books, pushes across nodes and loses nothing", func(t *testing.T) { testSmoke(t, cl) })
	t.Run("idle-conns measures RSS per connection from child processes", func(t *testing.T) { testIdle(t, cl) })
	t.Run("messages cross nodes and every one is reconciled", func(t *testing.T) { testMessages(t, cl) })
}

// testSmoke runs the smoke preset: it proves the generator books, receives
// pushes across nodes, and reconciles every event with no loss or duplicate.
func testSmoke(t *testing.T, cl *cluster) {
	cfg, err := config.NewConfig("smoke", cl.urls)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MonitoringKey = cl.monitoringKey
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, testLog{t})
	if err != nil {
		cl.dumpLogs()
		t.Fatalf("run: %v", err)
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	t.Log(table.String())

	d := res.Delivery
	if !res.Pass {
		cl.dumpLogs()
		t.Fatalf("smoke run failed: %v", res.Failures)
	}
	if d.Lost != 0 || d.Duplicated != 0 || d.BookingPushLost != 0 || d.BookingPushDup != 0 {
		t.Fatalf("lost %d duplicated %d booking pushes lost %d duplicated %d", d.Lost, d.Duplicated, d.BookingPushLost, d.BookingPushDup)
	}
	if res.Bookings.Created < 5 {
		t.Errorf("only %d bookings created at %g/s for %v", res.Bookings.Created, cfg.Rate, cfg.Duration)
	}
	if d.ReceivedEvents == 0 || d.ReceivedEvents != d.ExpectedEvents {
		t.Errorf("availability events received %d of %d expected", d.ReceivedEvents, d.ExpectedEvents)
	}
	if d.BookingPushReceived == 0 || d.BookingPushReceived != d.BookingPushExpected {
		t.Errorf("booking pushes received %d of %d expected", d.BookingPushReceived, d.BookingPushExpected)
	}
	if res.Latency[measure.HPushCrossAll].Count() == 0 || res.Latency[measure.HPushSameAll].Count() == 0 {
		t.Errorf("pushes: %d cross-node, %d same-node; want both", res.Latency[measure.HPushCrossAll].Count(), res.Latency[measure.HPushSameAll].Count())
	}
	if res.Connections.Open != res.Connections.Requested || res.Connections.ByNode[0] == 0 || res.Connections.ByNode[1] == 0 {
		t.Errorf("connections %d of %d open, by node %v", res.Connections.Open, res.Connections.Requested, res.Connections.ByNode)
	}
	if res.Latency[measure.HBookingPost].Count() != uint64(res.Bookings.Sent) {
		t.Errorf("booking latency has %d samples for %d requests sent", res.Latency[measure.HBookingPost].Count(), res.Bookings.Sent)
	}

	// The outputs an operator keeps: JSON that round-trips, HTML with plots.
	dir := t.TempDir()
	cfg.JSONPath, cfg.HTMLPath = filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	if err := report.WriteOutputs(res, cfg); err != nil {
		t.Fatal(err)
	}
	var back report.Result
	raw, _ := os.ReadFile(cfg.JSONPath)
	if err := json.Unmarshal(raw, &back); err != nil || back.Latency[measure.HBookingPost].Count() != res.Latency[measure.HBookingPost].Count() {
		t.Errorf("JSON result does not round-trip: %v", err)
	}
	html, _ := os.ReadFile(cfg.HTMLPath)
	if !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("<script")) || bytes.Contains(html, []byte("http://cdn")) {
		t.Errorf("HTML report is not a self-contained page with inline SVG")
	}
}

// testIdle holds a few hundred idle connections on the first node from two
// re-executed child processes on two source addresses, and reads the node's
// RSS from /metrics before and after.
func testIdle(t *testing.T, cl *cluster) {
	cfg, err := config.NewConfig("idle-conns", cl.urls)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Watchers, cfg.Procs, cfg.Duration, cfg.Settle = 300, 2, 2*time.Second, time.Second
	cfg.MonitoringKey = cl.monitoringKey
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, testLog{t})
	if err != nil {
		cl.dumpLogs()
		t.Fatalf("run: %v", err)
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	t.Log(table.String())
	if res.Connections.Open != 300 || res.Idle.Dropped != 0 || len(res.Errors) != 0 {
		t.Fatalf("open %d dropped %d errors %v", res.Connections.Open, res.Idle.Dropped, res.Errors)
	}
	if len(res.Idle.Nodes) != 1 || res.Idle.Nodes[0].URL != cl.urls[0] {
		t.Fatalf("idle-conns measured %+v, want only the first node", res.Idle.Nodes)
	}
	n := res.Idle.Nodes[0]
	if n.RSSBefore <= 0 || n.RSSAfter <= 0 || n.Connections != 300 {
		t.Fatalf("node figures %+v", n)
	}
	if n.ServerConnsGauge != 300 {
		t.Errorf("server gauge says %v connections, want 300", n.ServerConnsGauge)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// cluster is hubd nodes started for one test.
type cluster struct {
	t             *testing.T
	urls          []string
	logs          []string
	monitoringKey string
}

// buildHubd builds cmd/hubd into the test's temporary directory.
func buildHubd(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubd")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	if out, err := exec.Command(gobin, "build", "-o", path, "instainstru/cmd/hubd").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hubd: %v\n%s", err, out)
	}
	return path
}

// startCluster builds hubd, makes a migrated and seeded database, and starts
// n nodes sharing it and one Redis prefix; they are stopped in cleanup.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	bin := buildHubd(t)
	dbURL := storetest.NewDatabaseURL(t)
	redisURL, prefix := storetest.SharedRedis(t)
	cl := &cluster{t: t, monitoringKey: "loadtest-smoke-key"}
	env := append(os.Environ(),
		"DATABASE_URL="+dbURL, "REDIS_URL="+redisURL, "REDIS_PREFIX="+prefix, "APP_ENV=test",
		"JWT_SECRET=loadtest-smoke-secret-0123456789abcdef", "MONITORING_API_KEY="+cl.monitoringKey,
		"RATE_LIMIT_REGISTER_PER_MIN=100000", "RATE_LIMIT_LOGIN_PER_MIN=100000", "RATE_LIMIT_LOGIN_FAILURES_PER_MIN=100000",
		"ALLOW_UNVERIFIED_BOOKING=true", // the generator's students never read their email
		// every watcher dials from 127.0.0.1, several sockets per student
		"WS_MAX_PER_ADDRESS=1000000", "WS_MAX_PER_USER=1000000", "WS_MAX_TOPICS_PER_ADDRESS=1000000",
	)
	for _, sub := range []string{"migrate", "seed"} {
		cmd := exec.Command(bin, sub)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hubd %s: %v\n%s", sub, err, out)
		}
	}
	for i := range n {
		port, err := storetest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(t.TempDir(), fmt.Sprintf("node-%d.log", i))
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(env, fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port), fmt.Sprintf("NODE_ID=smoke-%c", 'a'+i))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited already
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }() //nolint:errcheck
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill() //nolint:errcheck
				<-done
			}
			logf.Close()
		})
		cl.urls = append(cl.urls, fmt.Sprintf("http://127.0.0.1:%d", port))
		cl.logs = append(cl.logs, logPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := client.NewAPI(2*time.Second, 4)
	for _, u := range cl.urls {
		if err := a.WaitReady(ctx, u); err != nil {
			cl.dumpLogs()
			t.Fatalf("node %s not ready: %v", u, err)
		}
	}
	return cl
}

// dumpLogs prints the tail of every node's log, to explain a failure.
func (cl *cluster) dumpLogs() {
	for _, p := range cl.logs {
		b, _ := os.ReadFile(p)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		cl.t.Logf("--- %s ---\n%s", p, b)
	}
}
