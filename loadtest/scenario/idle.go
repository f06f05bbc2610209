package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/config"
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// ChildEnv carries a child's assignment when the generator re-executes
// itself for -procs > 1 (an env var, so a test binary can be a child too).
const ChildEnv = "LOADTEST_IDLE_CHILD"

// fdReserve is what a process keeps for everything but sockets.
const fdReserve = 200

// childSpec is one child process's share of the idle connections.
type childSpec struct {
	Config config.Config `json:"config"`
	First  int           `json:"first"` // global index of its first connection (for node spreading)
	Count  int           `json:"count"`
	Source string        `json:"source"`
	Topic  string        `json:"topic"`
}

// childReport is what a child prints on stdout, one JSON line each time.
type childReport struct {
	Phase     string             `json:"phase"` // ready | done
	Open      int                `json:"open"`
	Failed    int                `json:"failed"`
	Dropped   int64              `json:"dropped"`
	Connect   *measure.Histogram `json:"connect"`
	Errors    map[string]int64   `json:"errors"`
	Notes     map[string]int64   `json:"notes"`
	FDLimit   uint64             `json:"fd_limit"`
	SetupSecs float64            `json:"setup_seconds"`
	Err       string             `json:"error,omitempty"`
}

// idleSet is a batch of idle connections held by one process.
type idleSet struct {
	r       *runner
	clients []*client.WSClient
	failed  int
	setup   time.Duration
}

// openIdle opens count anonymous connections (subscribed to topic when set),
// spread over the watch nodes from global index first.
func openIdle(ctx context.Context, cfg config.Config, first, count int, source, topic string, progress io.Writer) (*idleSet, error) {
	r := &runner{cfg: cfg, st: measure.NewStats(), out: progress, home: map[string]int{}}
	for _, u := range cfg.URLs {
		r.wsURL = append(r.wsURL, client.WSURLFor(u))
	}
	r.readCtx, r.stopReads = context.WithCancel(context.Background())
	hc := wsHTTPClient(source)
	var track *measure.TopicTrack
	if topic != "" {
		track = measure.NewTopicTrack(topic, -1)
	}
	s := &idleSet{r: r}
	for i := range count {
		node := cfg.WatchOn[(first+i)%len(cfg.WatchOn)]
		c := client.NewWSClient(r.wsEnv(), node, r.wsURL[node], hc, nil, client.RoleIdle)
		if track != nil {
			c.AddTopic(track, -1)
		}
		s.clients = append(s.clients, c)
	}
	start := time.Now()
	var failed atomic.Int64
	stop := r.progressLoop(func(el time.Duration) string {
		return fmt.Sprintf("[%5.1fs] idle connections %d/%d open (%.0f/s), %d failed", el.Seconds(),
			r.st.Connected.Load(), count, float64(r.st.Connected.Load())/el.Seconds(), failed.Load())
	})
	r.connectAll(ctx, s.clients, cfg.ConnectParallel, &failed)
	deadline := time.After(2 * time.Minute)
	for _, c := range s.clients {
		select {
		case <-c.Ready:
		case <-deadline:
			stop()
			return s, errors.New("subscribe acks still missing after 2 minutes")
		case <-ctx.Done():
			stop()
			return s, ctx.Err()
		}
	}
	stop()
	s.setup = time.Since(start)
	s.failed = int(failed.Load())
	return s, nil
}

func (s *idleSet) close() {
	s.r.clients = s.clients
	s.r.closeAll()
}

func (s *idleSet) dropped() int64 { return s.r.st.Reconnects.Load() }

// runIdle holds cfg.Watchers idle connections, split over cfg.Procs
// processes, and measures the server's RSS per connection.
func runIdle(ctx context.Context, cfg config.Config, progress io.Writer) (*report.Result, error) {
	if progress == nil {
		progress = io.Discard
	}
	if cfg.RunID == "" {
		cfg.RunID = NewRunID()
	}
	limit, err := idleFDLimit(cfg)
	if err != nil {
		return nil, err
	}
	a := client.NewAPI(cfg.RequestTimeout, 16)
	topic, err := idleTopic(ctx, a, cfg)
	if err != nil {
		return nil, err
	}
	res := &report.Result{
		Scenario: cfg.Scenario, RunID: cfg.RunID, StartedAt: time.Now(), Config: cfg, Nodes: cfg.URLs,
		Latency: map[string]*measure.Histogram{measure.HConnect: {}, measure.HSubscribeAck: {}}, Errors: map[string]int64{}, Notes: map[string]int64{},
		Idle: &report.IdleStats{Connections: cfg.Watchers, Procs: cfg.Procs, FDLimit: limit},
	}
	perNode := make([]int, len(cfg.URLs))
	for i := range cfg.Watchers {
		perNode[cfg.WatchOn[i%len(cfg.WatchOn)]]++
	}
	before, err := scrapeMem(ctx, a, cfg, "before")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "idle-conns: %d connections over %d process(es), RSS before %s\n", cfg.Watchers, cfg.Procs, fmtRSS(before, cfg.WatchOn))

	start := time.Now()
	holder, err := holdIdle(ctx, cfg, topic, limit, progress)
	if err != nil {
		return nil, err
	}
	setup := time.Since(start)
	res.Connections.Requested = cfg.Watchers
	res.Connections.SetupSecs = setup.Seconds()
	res.Connections.PerSecond = float64(cfg.Watchers) / setup.Seconds()

	sleepCtx(ctx, cfg.Settle)
	after, scrapeErr := scrapeMem(ctx, a, cfg, "after")
	holdStart := time.Now()
	if rest := cfg.Duration - cfg.Settle; rest > 0 {
		sleepCtx(ctx, rest)
	}
	reports, closeErr := holder.close()
	res.Idle.HoldSecs = time.Since(holdStart).Seconds() + cfg.Settle.Seconds()
	if scrapeErr != nil {
		return nil, scrapeErr
	}
	if closeErr != nil {
		return nil, closeErr
	}
	addChildReports(res, reports)
	res.Connections.ByNode = perNode
	addIdleNodes(res, cfg, perNode, before, after)
	if res.Idle.Dropped > 0 {
		res.Errors["idle_connection_dropped"] += int64(res.Idle.Dropped)
	}
	res.Judge()
	return res, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// idleFDLimit raises the open-files limit and refuses, naming the -procs
// that would fit, a run whose processes could not each hold their share.
func idleFDLimit(cfg config.Config) (uint64, error) {
	limit, err := floor.RaiseFDLimit()
	if err != nil {
		return 0, fmt.Errorf("raise open-files limit: %w", err)
	}
	perProc := int(limit) - fdReserve
	if need := (cfg.Watchers + cfg.Procs - 1) / cfg.Procs; need > perProc {
		return 0, fmt.Errorf("idle-conns asks for %d connections over %d process(es) = %d each, but a process here may hold about %d sockets (open-files hard limit %d, not raisable): use -procs %d or fewer -conns",
			cfg.Watchers, cfg.Procs, need, perProc, limit, (cfg.Watchers+perProc-1)/perProc)
	}
	return limit, nil
}

// idleTopic waits for every node and picks the instructor whose
// availability topic each connection subscribes to ("" with -topics 0).
func idleTopic(ctx context.Context, a *client.API, cfg config.Config) (string, error) {
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, u := range cfg.URLs {
		if err := a.WaitReady(rctx, u); err != nil {
			return "", fmt.Errorf("node not ready: %w", err)
		}
	}
	if cfg.TopicsPerWatcher <= 0 {
		return "", nil
	}
	list, err := a.ListInstructors(ctx, cfg.URLs[0], 1)
	if err != nil || len(list) == 0 {
		return "", fmt.Errorf("idle-conns subscribes each connection to one instructor, and none is listed: %v", err)
	}
	return list[0].ID, nil
}

// scrapeMem reads the memory figures of every watched node; label names
// the moment in errors.
func scrapeMem(ctx context.Context, a *client.API, cfg config.Config, label string) ([]nodeMem, error) {
	out := make([]nodeMem, len(cfg.URLs))
	for _, n := range cfg.WatchOn {
		body, err := a.Scrape(ctx, cfg.URLs[n], cfg.MonitoringKey)
		if err != nil {
			return nil, fmt.Errorf("%s scrape: %w", label, err)
		}
		rss, ok := measure.SumMetric(body, "process_resident_memory_bytes")
		if !ok {
			return nil, fmt.Errorf("%s: %s/metrics has no process_resident_memory_bytes", label, cfg.URLs[n])
		}
		m := nodeMem{rss: rss}
		m.conns, _ = measure.SumMetric(body, "instainstru_ws_connections")
		m.heap, _ = measure.SumMetric(body, "go_memstats_heap_inuse_bytes")
		m.stack, _ = measure.SumMetric(body, "go_memstats_stack_inuse_bytes")
		m.goroutines, _ = measure.SumMetric(body, "go_goroutines")
		out[n] = m
	}
	return out, nil
}

// idleHolder holds the idle connections open until close, which reports
// each process's share.
type idleHolder interface {
	close() ([]childReport, error)
}

// holdIdle opens the connections: in this process with -procs 1, else in
// child processes.
func holdIdle(ctx context.Context, cfg config.Config, topic string, limit uint64, progress io.Writer) (idleHolder, error) {
	if cfg.Procs != 1 {
		return spawnChildren(ctx, cfg, topic, progress)
	}
	src := ""
	if len(cfg.SourceIPs) > 0 {
		src = cfg.SourceIPs[0]
	}
	set, err := openIdle(ctx, cfg, 0, cfg.Watchers, src, topic, progress)
	if err != nil {
		if set != nil {
			set.close()
		}
		return nil, err
	}
	return &localHolder{set: set, limit: limit}, nil
}

// addChildReports sums what each process opened, dropped and measured.
func addChildReports(res *report.Result, reports []childReport) {
	for _, rp := range reports {
		res.Connections.Open += rp.Open
		res.Connections.Failed += rp.Failed
		res.Idle.Dropped += int(rp.Dropped)
		if rp.Connect != nil {
			res.Latency[measure.HConnect].Merge(rp.Connect)
		}
		for k, v := range rp.Errors {
			res.Errors[k] += v
		}
		for k, v := range rp.Notes {
			res.Notes[k] += v
		}
	}
}

// addIdleNodes sets each watched node's memory per connection.
func addIdleNodes(res *report.Result, cfg config.Config, perNode []int, before, after []nodeMem) {
	for _, n := range cfg.WatchOn {
		b, a := before[n], after[n]
		in := report.IdleNode{URL: cfg.URLs[n], Connections: perNode[n], RSSBefore: b.rss, RSSAfter: a.rss, ServerConnsGauge: a.conns}
		if c := float64(perNode[n]); c > 0 {
			in.BytesPerConn = (a.rss - b.rss) / c
			in.HeapPerConn = (a.heap - b.heap) / c
			in.StackPerConn = (a.stack - b.stack) / c
			in.GoroutinesPerConn = (a.goroutines - b.goroutines) / c
		}
		res.Idle.Nodes = append(res.Idle.Nodes, in)
	}
}

// nodeMem is one node's memory figures from /metrics.
type nodeMem struct{ rss, conns, heap, stack, goroutines float64 }

func fmtRSS(v []nodeMem, nodes []int) string {
	s := ""
	for _, n := range nodes {
		s += fmt.Sprintf("[node %d: %.1f MiB]", n, v[n].rss/(1<<20))
	}
	return s
}

type localHolder struct {
	set   *idleSet
	limit uint64
}

func (h *localHolder) close() ([]childReport, error) {
	s := h.set
	dropped := s.dropped()
	s.close()
	errs, notes := s.r.st.Snapshot()
	return []childReport{{
		Phase: "done", Open: len(s.clients) - s.failed, Failed: s.failed, Dropped: dropped,
		Connect: s.r.st.Hist[measure.HConnect], Errors: errs, Notes: notes, FDLimit: h.limit, SetupSecs: s.setup.Seconds(),
	}}, nil
}

// childHolder is the parent's handle on its children.
type childHolder struct {
	cmds   []*exec.Cmd
	stdins []io.WriteCloser
	outs   []*bufio.Scanner
}

// sourceIPs picks each child's local address: the -source-ips list, or,
// against a loopback target, 127.0.0.2, 127.0.0.3… (each source address has
// its own ~28,000 ephemeral ports towards one server port).
func sourceIPs(cfg config.Config) []string {
	if len(cfg.SourceIPs) > 0 {
		return cfg.SourceIPs
	}
	u, err := url.Parse(cfg.URLs[cfg.WatchOn[0]])
	if err != nil {
		return nil
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return nil
	}
	var out []string
	for i := range cfg.Procs {
		out = append(out, fmt.Sprintf("127.0.0.%d", 2+i%250))
	}
	return out
}

func spawnChildren(ctx context.Context, cfg config.Config, topic string, progress io.Writer) (*childHolder, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	srcs := sourceIPs(cfg)
	h := &childHolder{}
	share := (cfg.Watchers + cfg.Procs - 1) / cfg.Procs
	first := 0
	for i := range cfg.Procs {
		n := min(share, cfg.Watchers-first)
		if n <= 0 {
			break
		}
		spec := childSpec{Config: cfg, First: first, Count: n, Topic: topic}
		spec.Config.Quiet = true
		if len(srcs) > 0 {
			spec.Source = srcs[i%len(srcs)]
		}
		b, _ := json.Marshal(spec)
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), ChildEnv+"="+string(b))
		cmd.Stderr = progress
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			h.kill()
			return nil, fmt.Errorf("start child %d: %w", i, err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		h.cmds, h.stdins, h.outs = append(h.cmds, cmd), append(h.stdins, in), append(h.outs, sc)
		first += n
	}
	for i, sc := range h.outs {
		rp, err := readReport(sc)
		if err != nil || rp.Phase != "ready" {
			h.kill()
			if err == nil {
				err = errors.New(rp.Err)
			}
			return nil, fmt.Errorf("child %d: %w", i, err)
		}
		fmt.Fprintf(progress, "child %d: %d open, %d failed in %.1fs (fd limit %d)\n", i, rp.Open, rp.Failed, rp.SetupSecs, rp.FDLimit)
	}
	return h, nil
}

func readReport(sc *bufio.Scanner) (childReport, error) {
	var rp childReport
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return rp, err
		}
		return rp, errors.New("child exited without a report")
	}
	if err := json.Unmarshal(sc.Bytes(), &rp); err != nil {
		return rp, fmt.Errorf("child report: %w", err)
	}
	if rp.Err != "" {
		return rp, errors.New(rp.Err)
	}
	return rp, nil
}

func (h *childHolder) kill() {
	for _, c := range h.cmds {
		if c.Process != nil {
			c.Process.Kill() //nolint:errcheck // best effort on the error path
		}
	}
	for _, c := range h.cmds {
		c.Wait() //nolint:errcheck
	}
}

// close tells every child to finish (stdin EOF) and collects final reports.
func (h *childHolder) close() ([]childReport, error) {
	for _, in := range h.stdins {
		in.Close()
	}
	var out []childReport
	var firstErr error
	for i, sc := range h.outs {
		rp, err := readReport(sc)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("child %d: %w", i, err)
		}
		out = append(out, rp)
	}
	for _, c := range h.cmds {
		if err := c.Wait(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("child: %w", err)
		}
	}
	return out, firstErr
}

// ChildMain runs a child process: open its share, report, hold until stdin
// closes, report again.
func ChildMain(specJSON string) int {
	enc := json.NewEncoder(os.Stdout)
	var spec childSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		enc.Encode(childReport{Phase: "ready", Err: "bad child spec: " + err.Error()}) //nolint:errcheck
		return 2
	}
	limit, err := floor.RaiseFDLimit()
	if err != nil {
		enc.Encode(childReport{Phase: "ready", Err: err.Error()}) //nolint:errcheck
		return 1
	}
	if spec.Count > int(limit)-fdReserve {
		enc.Encode(childReport{Phase: "ready", Err: fmt.Sprintf("share of %d connections exceeds this process's open-files limit %d", spec.Count, limit)}) //nolint:errcheck
		return 1
	}
	set, err := openIdle(context.Background(), spec.Config, spec.First, spec.Count, spec.Source, spec.Topic, io.Discard)
	if err != nil {
		enc.Encode(childReport{Phase: "ready", Err: err.Error()}) //nolint:errcheck
		return 1
	}
	enc.Encode(childReport{Phase: "ready", Open: spec.Count - set.failed, Failed: set.failed, FDLimit: limit, SetupSecs: set.setup.Seconds()}) //nolint:errcheck
	io.Copy(io.Discard, os.Stdin)                                                                                                              //nolint:errcheck // blocks until the parent closes stdin
	dropped := set.dropped()
	set.close()
	errs, notes := set.r.st.Snapshot()
	enc.Encode(childReport{Phase: "done", Open: spec.Count - set.failed, Failed: set.failed, Dropped: dropped, //nolint:errcheck
		Connect: set.r.st.Hist[measure.HConnect], Errors: errs, Notes: notes, FDLimit: limit, SetupSecs: set.setup.Seconds()})
	return 0
}
