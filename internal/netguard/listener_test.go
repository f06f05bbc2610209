package netguard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// childEnv makes the test binary a Fiber server under a low descriptor
// limit (see TestMain): "guarded" serves on a netguard Listener, "bare"
// on the plain one, as the node did before.
const childEnv = "NETGUARD_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(serveChild(mode))
	}
	os.Exit(m.Run())
}

func serveChild(mode string) int {
	lim := syscall.Rlimit{Cur: 1024, Max: 1024}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		return 2
	}
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return 2
	}
	switch mode {
	case "guarded":
		ln = Wrap(ln, Config{})
	case "uncapped": // no cap: only the back-off and the spares stand between EMFILE and exit
		ln = Wrap(ln, Config{MaxConns: 1 << 20})
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/health", func(c *fiber.Ctx) error { return c.SendString("ok") })
	fmt.Println("addr", ln.Addr().String())
	err = app.Listener(ln)
	fmt.Println("serve returned:", err)
	return 1
}

// startChild runs the test binary as a server in mode and returns its
// address and a channel closed when it exits.
func startChild(t *testing.T, mode string) (string, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck
		<-exited
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "addr ") {
		t.Fatalf("child did not start: %q", sc.Text())
	}
	addr := strings.TrimPrefix(sc.Text(), "addr ")
	go func() {
		for sc.Scan() {
			t.Logf("child: %s", sc.Text())
		}
		cmd.Wait() //nolint:errcheck
		close(exited)
	}()
	return addr, exited
}

// openIdle opens n TCP connections that send nothing.
func openIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	return conns
}

func TestNodeSurvivesMoreIdleConnectionsThanDescriptors(t *testing.T) {
	for _, mode := range []string{"guarded", "uncapped"} {
		t.Run(mode, func(t *testing.T) { survives(t, mode) })
	}
}

func survives(t *testing.T, mode string) {
	addr, exited := startChild(t, mode)
	conns := openIdle(t, addr, 1100)
	// Connections past the cap (1024 - 128 reserve), or past the last
	// descriptor (answered through a spare), are told 503 and closed;
	// read one of the last ones.
	last := conns[len(conns)-1]
	last.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	b, _ := io.ReadAll(last)
	if !strings.HasPrefix(string(b), "HTTP/1.1 503") || !strings.Contains(string(b), "service_unavailable") {
		t.Fatalf("connection past the cap got %q, want a 503", b)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case <-exited:
		t.Fatal("server exited with 1,100 idle connections open")
	default:
	}
	for _, c := range conns {
		c.Close() //nolint:errcheck
	}
	// The closed connections' descriptors are freed as fasthttp's readers
	// see EOF; /health is served again within a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := nethttp.Get("http://" + addr + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close() //nolint:errcheck
			if resp.StatusCode == 200 && string(body) == "ok" {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health after closing the connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBareFiberDiesOnEMFILE is the control: without the guard the same
// flood ends the server with "too many open files". If fasthttp ever stops
// treating EMFILE as fatal this test says so.
func TestBareFiberDiesOnEMFILE(t *testing.T) {
	if testing.Short() {
		t.Skip("control experiment")
	}
	addr, exited := startChild(t, "bare")
	conns := make([]net.Conn, 0, 1100)
	defer func() {
		for _, c := range conns {
			c.Close() //nolint:errcheck
		}
	}()
	for range 1100 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break // the listener is gone
		}
		conns = append(conns, c)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("bare server survived; the guard may no longer be needed")
	}
}

func TestAcceptBacksOffOnEMFILEAndStopsOnClose(t *testing.T) {
	fl := &failingListener{err: &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}, fails: 4}
	l := Wrap(fl, Config{MaxConns: 10, Spares: -1})
	start := time.Now()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept returned %v, want a connection after the retries", err)
	}
	c.Close() //nolint:errcheck
	// 5 + 10 + 20 + 40 ms of back-off.
	if took := time.Since(start); took < 70*time.Millisecond || took > time.Second {
		t.Fatalf("four EMFILEs took %v, want the 5ms-doubling back-off (~75ms)", took)
	}
	if l.Open() != 0 {
		t.Fatalf("open = %d after Close, want 0", l.Open())
	}
	fl.fails = 1 << 30
	go func() { time.Sleep(50 * time.Millisecond); l.Close() }() //nolint:errcheck
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

// failingListener fails Accept fails times with err, then returns a pipe.
type failingListener struct {
	err    error
	fails  int
	closed atomic.Bool
}

func (f *failingListener) Accept() (net.Conn, error) {
	if f.closed.Load() {
		return nil, net.ErrClosed
	}
	if f.fails > 0 {
		f.fails--
		return nil, f.err
	}
	a, _ := net.Pipe()
	return a, nil
}
func (f *failingListener) Close() error   { f.closed.Store(true); return nil }
func (f *failingListener) Addr() net.Addr { return &net.TCPAddr{} }
