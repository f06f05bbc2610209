// Command loadtest drives an InstaInstru hub cluster the way its users do —
// students watching instructors' open time over WebSocket, students booking
// and cancelling, instructors receiving booking pushes — and proves the
// SPEC §7 targets: latency without coordinated omission, fan-out completion,
// connection cost, and zero lost or duplicated events. It is an operator's
// tool (go run ./cmd/loadtest -h); make test runs its smoke scenario and
// loadtest/bench.sh the full set.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"instainstru/loadtest/config"
	"instainstru/loadtest/report"
	"instainstru/loadtest/scenario"
)

func main() {
	if spec := os.Getenv(scenario.ChildEnv); spec != "" {
		os.Exit(scenario.ChildMain(spec))
	}
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain parses args, runs, reports; it returns the exit status: 0 pass,
// 1 a failed check, 2 a run that could not be carried out.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "markdown" {
		return markdownMain(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "floor" {
		return floorMain(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "pgfloor" {
		return pgfloorMain(args[1:], stdout, stderr)
	}
	cfg, o, code := parseArgs(args, stderr)
	if code >= 0 {
		return code
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		defer stop()
	}
	return run(cfg, stdout, stderr)
}

// parseArgs turns the command line into the run's configuration: the
// preset, then the overrides given. code is the exit status when the run
// must not go on (-h: 0, bad flags: 2), else -1.
func parseArgs(args []string, stderr io.Writer) (cfg config.Config, o options, code int) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	appliers := defineFlags(fs, &o)
	fs.Usage = func() { usage(fs, stderr) }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return cfg, o, 0
		}
		return cfg, o, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q (see -h)\n", fs.Args())
		return cfg, o, 2
	}
	cfg, err := config.NewConfig(o.scenario, splitList(o.urls))
	if err == nil {
		err = applyOverrides(fs, appliers, &cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return cfg, o, 2
	}
	cfg.MonitoringKey = o.monitoringKey
	cfg.JSONPath, cfg.HTMLPath, cfg.Quiet = o.jsonOut, o.htmlOut, o.quiet
	if cfg.RunID == "" {
		cfg.RunID = scenario.NewRunID()
	}
	if cfg.Seed == 0 {
		cfg.Seed, _ = strconv.ParseUint(cfg.RunID, 16, 64)
	}
	return cfg, o, -1
}

// usage is -h: what the tool does, each preset's figures, every flag.
func usage(fs *flag.FlagSet, stderr io.Writer) {
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

// startCPUProfile profiles the generator itself into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// run carries out the scenario until done or interrupted, prints the table
// and writes -json/-html.
func run(cfg config.Config, stdout, stderr io.Writer) int {
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
