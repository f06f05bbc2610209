// Command loadtest drives an InstaInstru hub cluster the way its users do —
// students watching instructors' open time over WebSocket, students booking
// and cancelling, instructors receiving booking pushes — and proves the
// SPEC §7 targets: latency without coordinated omission, fan-out completion,
// connection cost, and zero lost or duplicated events. It is an operator's
// tool (go run ./loadtest -h); make test runs its smoke scenario and
// loadtest/bench.sh the full set.
package main

import (
	"context"
	"flag"
	"fmt"
	"instainstru/loadtest/config"
	"instainstru/loadtest/report"
	"instainstru/loadtest/scenario"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

const usageHead = `loadtest — load generator for the InstaInstru hub (SPEC §7)

Usage: go run ./loadtest -scenario NAME -urls http://node-a:8080,http://node-b:8080 [flags]
       go run ./loadtest markdown -o BENCHMARKS.md result.json…   (render -json results)

What it does, against one or more nodes of a running, seeded cluster:
  1. finds instructors with services and open time (GET /api/v1/instructors…),
     registers -students new students (unique emails per run) and signs the
     chosen instructors in (email guessed from the seeded name, or
     -instructor-emails; password -password);
  2. opens -watchers WebSocket connections spread over the watch nodes (a share
     -signed-in of them as students), each subscribed to -topics of the
     instructors' availability topics, plus one connection per instructor for
     booking pushes and a "planner" connection that keeps the generator's view
     of open time current;
  3. for -duration, books at -rate attempts/s OPEN-LOOP: every attempt has an
     intended start time on a fixed (or -poisson) schedule, runs on its own
     goroutine, and its latency is measured from the intended time, so a slow
     server shows up as latency instead of a slower schedule (no coordinated
     omission); a share -cancel-ratio of created bookings is cancelled
     -cancel-after later, a share -replay-ratio is POSTed again with the same
     Idempotency-Key (must return the same booking), and -get-rate
     availability GETs/s run alongside;
  4. stops, reads every topic's final seq over REST, waits up to -drain for the
     last pushes, and reconciles: every watcher must have received every seq
     from its subscribe ack+1 to the final seq exactly once, and every created
     or cancelled booking must have reached each connection of its instructor
     and student exactly once.
Latency of a push = receipt time − the event's ts (its commit time): the
generator and the nodes must share a clock (same machine, or well-synced NTP).
With -monitoring-key it also reads each node's /metrics before and after and
reports the server's own view (CPU, pool waits, outbox lag, commit→write
latency); idle-conns needs it for process_resident_memory_bytes.

Exit status: 0 pass; 1 the run failed a check (any event lost or duplicated,
any error, or — with -strict — a missed target); 2 the run could not be
carried out (bad flags, cluster not reachable, more sockets than fit).

Scenarios (-scenario; flags you set override the preset):
`

const usageTail = `
Examples:
  go run ./loadtest -scenario smoke -urls http://127.0.0.1:8080
  go run ./loadtest -scenario booking-storm -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -json storm.json -html storm.html
  go run ./loadtest -scenario fanout -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -watchers 10000
  go run ./loadtest floor -sockets 9900    # the fan-out syscall floor alone (no server)
  go run ./loadtest floor -mode uring      # the same floor with the sends batched through io_uring
  go run ./loadtest -scenario idle-conns -urls http://127.0.0.1:8081 -conns 18000 -procs 2 -monitoring-key "$MONITORING_API_KEY"
`

func main() {
	if spec := os.Getenv(scenario.ChildEnv); spec != "" {
		os.Exit(scenario.ChildMain(spec))
	}
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain parses args, runs, reports; it returns the exit status.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "markdown" {
		return markdownMain(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "floor" {
		return floorMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		scenarioName = fs.String("scenario", "smoke", "named preset: "+config.PresetNames())
		urls         = fs.String("urls", envOr("LOADTEST_URLS", "http://127.0.0.1:8080"), "comma-separated base URLs of the nodes (env LOADTEST_URLS)")
		watchOn      = fs.String("watch-nodes", "", "comma-separated indexes into -urls that watchers connect to (default: all; fanout/idle-conns: 0)")
		bookOn       = fs.String("booking-nodes", "", "comma-separated indexes into -urls that bookings go to; each instructor's writes go to one of them (default: all; fanout: the last)")
		duration     = fs.Duration("duration", 0, "length of the load phase (idle-conns: how long connections are held)")
		drain        = fs.Duration("drain", 0, "after the load, how long to wait for the last pushes before counting what is missing")
		watchers     = fs.Int("watchers", 0, "watcher WebSocket connections (N)")
		conns        = fs.Int("conns", 0, "alias of -watchers (idle-conns)")
		signedIn     = fs.Float64("signed-in", 0, "share of watchers signed in as one of the students (0..1); the rest are anonymous")
		instrs       = fs.Int("instructors", 0, "instructors (M) whose availability is watched and booked; those with the most open time are chosen")
		topics       = fs.Int("topics", 0, "availability topics each watcher subscribes to (spread evenly over the M instructors)")
		students     = fs.Int("students", 0, "students (K) registered for this run, who book and cancel")
		rate         = fs.Float64("rate", 0, "booking attempts per second (R), open loop; 0 = no bookings")
		poisson      = fs.Bool("poisson", false, "exponential inter-arrival times instead of a fixed interval")
		cancelR      = fs.Float64("cancel-ratio", 0, "share of created bookings cancelled later (0..1)")
		cancelA      = fs.Duration("cancel-after", 0, "how long after its booking's intended start a cancellation is sent")
		getRate      = fs.Float64("get-rate", 0, "GET availability requests per second, open loop")
		replayR      = fs.Float64("replay-ratio", 0, "share of created bookings POSTed again with the same Idempotency-Key: must return the same booking and push nothing new")
		mailOff      = fs.Bool("mail-off", false, "the run's students and instructors turn email and reminders off first (PUT /me/notification-settings): a booking then writes no email rows and inserts no jobs, so comparing runs with and without it measures that part of the notification path")
		days         = fs.Int("days", 0, "days ahead (from today, New York) whose open time is booked and read")
		inflight     = fs.Int("max-in-flight", 0, "requests allowed in flight before scheduled ones are dropped and counted as errors (default 5000)")
		connPar      = fs.Int("connect-parallel", 0, "connections dialled at once during setup")
		timeout      = fs.Duration("timeout", 0, "per-request HTTP timeout (default 10s)")
		password     = fs.String("password", "", "password of the seeded instructors and of the registered students (default TestPassword123!)")
		emails       = fs.String("instructor-emails", "", "comma-separated instructor accounts to sign in and prefer (default: guessed from names, first.last@example.com)")
		domain       = fs.String("email-domain", "", "domain of the students' generated emails (default loadtest.example.com)")
		monKey       = fs.String("monitoring-key", os.Getenv("MONITORING_API_KEY"), "MONITORING_API_KEY of the nodes, to scrape /metrics (idle-conns; env MONITORING_API_KEY)")
		cleanup      = fs.Bool("cleanup", true, "cancel the bookings still confirmed at the end, so the next run finds open time")
		create       = fs.Bool("create-instructors", true, "when the cluster has fewer usable instructors than -instructors, register the rest (two services, open 08:00-20:00 daily)")
		procs        = fs.Int("procs", 0, "idle-conns: generator processes (re-executes itself); each holds at most the open-files hard limit minus 200 sockets")
		srcIPs       = fs.String("source-ips", "", "idle-conns: comma-separated local addresses, one per process (default with a loopback target: 127.0.0.2, 127.0.0.3, …)")
		settle       = fs.Duration("settle", 0, "idle-conns: wait after the last connection before scraping RSS again")
		runID        = fs.String("run-id", "", "run id used in emails and idempotency keys (default random)")
		seed         = fs.Uint64("seed", 0, "random seed of slot and instructor choices (default from the run id)")
		strict       = fs.Bool("strict", false, "exit 1 when a SPEC §7 target is missed, not only on loss, duplication or errors")
		jsonOut      = fs.String("json", "", "write the full result (config, counts, histograms with buckets) as JSON to this file")
		htmlOut      = fs.String("html", "", "write a self-contained HTML report with percentile plots and histograms to this file")
		quiet        = fs.Bool("quiet", false, "no progress output")
		cpuProf      = fs.String("cpuprofile", "", "write the generator's own CPU profile here (to check it is not the bottleneck)")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		for _, p := range config.Presets {
			c, _ := config.NewConfig(p.Name, []string{"http://a", "http://b"})
			fmt.Fprintf(stderr, "  %-14s %s\n", p.Name, p.About)
			if p.Name == "idle-conns" {
				fmt.Fprintf(stderr, "  %-14s -conns %d -duration %v -procs %d -settle %v", "", c.Watchers, c.Duration, c.Procs, c.Settle)
			} else {
				fmt.Fprintf(stderr, "  %-14s -duration %v -watchers %d -signed-in %.2g -instructors %d -topics %d -students %d -rate %g -cancel-ratio %g -cancel-after %v -replay-ratio %g -get-rate %g",
					"", c.Duration, c.Watchers, c.SignedInRatio, c.Instructors, c.TopicsPerWatcher, c.Students, c.Rate, c.CancelRatio, c.CancelAfter, c.ReplayRatio, c.GetRate)
			}
			fmt.Fprintln(stderr)
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprint(stderr, usageTail)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q (see -h)\n", fs.Args())
		return 2
	}
	cfg, err := config.NewConfig(*scenarioName, splitList(*urls))
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "watch-nodes":
			cfg.WatchOn, flagErr = parseInts(*watchOn)
		case "booking-nodes":
			cfg.BookOn, flagErr = parseInts(*bookOn)
		case "duration":
			cfg.Duration = *duration
		case "drain":
			cfg.Drain = *drain
		case "watchers":
			cfg.Watchers = *watchers
		case "conns":
			cfg.Watchers = *conns
		case "signed-in":
			cfg.SignedInRatio = *signedIn
		case "instructors":
			cfg.Instructors = *instrs
		case "topics":
			cfg.TopicsPerWatcher = *topics
		case "students":
			cfg.Students = *students
		case "rate":
			cfg.Rate = *rate
		case "poisson":
			cfg.Poisson = *poisson
		case "cancel-ratio":
			cfg.CancelRatio = *cancelR
		case "cancel-after":
			cfg.CancelAfter = *cancelA
		case "get-rate":
			cfg.GetRate = *getRate
		case "replay-ratio":
			cfg.ReplayRatio = *replayR
		case "mail-off":
			cfg.MailOff = *mailOff
		case "days":
			cfg.DaysAhead = *days
		case "max-in-flight":
			cfg.MaxInFlight = *inflight
		case "connect-parallel":
			cfg.ConnectParallel = *connPar
		case "timeout":
			cfg.RequestTimeout = *timeout
		case "password":
			cfg.Password = *password
		case "instructor-emails":
			cfg.InstructorEmails = splitList(*emails)
		case "email-domain":
			cfg.EmailDomain = *domain
		case "cleanup":
			cfg.Cleanup = *cleanup
		case "create-instructors":
			cfg.CreateInstructors = *create
		case "procs":
			cfg.Procs = *procs
		case "source-ips":
			cfg.SourceIPs = splitList(*srcIPs)
		case "settle":
			cfg.Settle = *settle
		case "run-id":
			cfg.RunID = *runID
		case "seed":
			cfg.Seed = *seed
		case "strict":
			cfg.Strict = *strict
		}
	})
	if flagErr != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", flagErr)
		return 2
	}
	cfg.MonitoringKey = *monKey
	cfg.JSONPath, cfg.HTMLPath, cfg.Quiet = *jsonOut, *htmlOut, *quiet
	if cfg.RunID == "" {
		cfg.RunID = scenario.NewRunID()
	}
	if cfg.Seed == 0 {
		cfg.Seed, _ = strconv.ParseUint(cfg.RunID, 16, 64)
	}

	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := scenario.Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	res.WriteTable(stdout)
	if err := report.WriteOutputs(res, cfg); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	if !res.Pass {
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("bad node index %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}
