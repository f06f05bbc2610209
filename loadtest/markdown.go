package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// markdownMain renders result JSON files into BENCHMARKS.md:
//
//	loadtest markdown -o BENCHMARKS.md storm.json fanout.json idle.json
//
// It records the machine (cores, CPU model, memory, load), the commit, every
// SPEC §7 target with pass/fail, each scenario's figures, and how to
// reproduce them.
func markdownMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest markdown", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "BENCHMARKS.md", "file to write")
	loadBefore := fs.String("load", "", "load average when the benchmark started (from /proc/loadavg)")
	elapsed := fs.Duration("elapsed", 0, "how long the whole benchmark took")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadtest markdown [-o BENCHMARKS.md] result.json…  (results written with -json)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var results []*Result
	var failed []string
	for _, p := range fs.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			// A scenario that could not run leaves no JSON; say so in the file.
			failed = append(failed, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintf(stderr, "loadtest markdown: %s: %v\n", p, err)
			return 2
		}
		results = append(results, &r)
	}
	var b strings.Builder
	writeMarkdown(&b, results, failed, machineInfo(*loadBefore), *elapsed)
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintf(stderr, "loadtest markdown: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}

type machine struct {
	Cores, CPU, Memory, Commit, Go, Kernel, Load, Date string
}

func machineInfo(load string) machine {
	m := machine{Cores: fmt.Sprint(runtime.NumCPU()), Go: runtime.Version(), Load: load,
		Date: time.Now().UTC().Format("2006-01-02 15:04 MST")}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n float64
		fmt.Sscanf(kb, "%f", &n)
		m.Memory = fmt.Sprintf("%.1f GiB", n/(1<<20))
	}
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.Commit += " (with uncommitted changes)"
		}
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// procField reads "key : value" from a /proc file (first match).
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func writeMarkdown(w *strings.Builder, results []*Result, failed []string, m machine, elapsed time.Duration) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("# Benchmarks")
	p("")
	p("Figures measured by `make bench` (`loadtest/bench.sh`), which builds `cmd/hubd`, creates a fresh database,")
	p("seeds it, starts two hub nodes sharing Postgres and Redis on this machine, and runs the load generator's")
	p("scenarios (`go run ./loadtest -h` explains them) on the same cores. This file is rewritten by each run;")
	p("the numbers below are from the run described here, not hand-edited.")
	p("")
	p("## Machine and run")
	p("")
	p("| | |")
	p("| --- | --- |")
	p("| date | %s |", m.Date)
	p("| cores (nproc) | %s |", m.Cores)
	p("| CPU | %s |", orDash(m.CPU))
	p("| memory | %s |", orDash(m.Memory))
	p("| kernel | %s |", orDash(m.Kernel))
	p("| commit | %s |", orDash(m.Commit))
	p("| Go | %s |", m.Go)
	p("| load average at start (1/5/15 min) | %s |", orDash(m.Load))
	if elapsed > 0 {
		p("| whole benchmark took | %s |", elapsed.Round(time.Second))
	}
	p("| topology | 2 hub nodes, Postgres, Redis and the generator on the same %s cores |", m.Cores)
	p("")
	p("## SPEC §7 targets")
	p("")
	p("| scenario | target | value | limit | result |")
	p("| --- | --- | --- | --- | --- |")
	for _, r := range results {
		for _, t := range r.Targets {
			res := "pass"
			if !t.Pass {
				res = "**MISS**"
			}
			p("| %s | %s | %s | %s | %s |", r.Scenario, t.Name, t.Value, t.Limit, res)
		}
		run := "pass"
		if !r.Pass {
			run = "**FAIL**: " + strings.Join(r.Failures, "; ")
		}
		p("| %s | run checks (loss, duplication, errors) | | | %s |", r.Scenario, run)
	}
	for _, f := range failed {
		p("| — | scenario did not complete | %s | | **FAIL** |", f)
	}
	for _, r := range results {
		p("")
		p("## %s", r.Scenario)
		p("")
		c := r.Config
		if r.Idle != nil {
			id := r.Idle
			p("%d idle connections (each subscribed to %d availability topic) from %d generator processes, held %.0f s.",
				id.Connections, c.TopicsPerWatcher, id.Procs, id.HoldSecs)
			p("Each process may open %d files (hard limit, not raisable here), so the count is the largest that fits one node.", id.FDLimit)
			p("")
			p("| node | connections | server gauge | RSS before | RSS after | RSS per connection | heap / stacks / goroutines per connection |")
			p("| --- | --- | --- | --- | --- | --- | --- |")
			for _, n := range id.Nodes {
				p("| %s | %d | %.0f | %.1f MiB | %.1f MiB | **%.1f KiB** | %.1f KiB / %.1f KiB / %.2f |", n.URL, n.Connections, n.ServerConnsGauge,
					n.RSSBefore/(1<<20), n.RSSAfter/(1<<20), n.BytesPerConn/1024, n.HeapPerConn/1024, n.StackPerConn/1024, n.GoroutinesPerConn)
			}
			p("")
			p("Connection setup: %.0f connections/s (%d open, %d failed, %d dropped while held).",
				r.Connections.PerSecond, r.Connections.Open, r.Connections.Failed, id.Dropped)
		} else {
			p("%d watchers (%.0f%% signed in) on nodes %v, %d topics each over %d instructors; %d students booking at %.1f/s open-loop for %s (cancelling %.0f%% after %s), %.0f availability GETs/s.",
				c.Watchers, c.SignedInRatio*100, c.WatchOn, c.TopicsPerWatcher, c.Instructors, c.Students, c.Rate, c.Duration,
				c.CancelRatio*100, c.CancelAfter, c.GetRate)
			p("")
			b, d, cs := r.Bookings, r.Delivery, r.Connections
			p("| count | value |")
			p("| --- | --- |")
			p("| connections open / requested (by node) | %d / %d %v |", cs.Open, cs.Requested, cs.ByNode)
			p("| connection setup rate | %.0f /s |", cs.PerSecond)
			p("| reconnects during the run | %d |", cs.Reconnects)
			p("| booking attempts scheduled / POSTs sent (rate) | %d / %d (%.1f/s) |", b.Scheduled, b.Sent, b.AchievedRate)
			p("| created / 409 conflicts / shed (503) / errors | %d / %d / %d / %d |", b.Created, b.Conflicts, b.Shed, b.Errors)
			p("| slots chosen blind (the generator's view had no open time left) | %d |", b.NoOpenSlot)
			p("| cancellations ok / shed (503) / errors | %d / %d / %d |", b.Cancelled, b.CancelShed, b.CancelErrors)
			p("| availability GETs (errors) | %d (%d) |", b.Gets, b.GetErrors)
			p("| availability events expected / received | %d / %d |", d.ExpectedEvents, d.ReceivedEvents)
			p("| lost / duplicated | **%d / %d** |", d.Lost, d.Duplicated)
			p("| booking pushes expected / received / lost / duplicated | %d / %d / %d / %d |", d.BookingPushExpected, d.BookingPushReceived, d.BookingPushLost, d.BookingPushDup)
			p("| fan-out events complete / total (receivers per event) | %d / %d (%.0f) |", r.Fanout.CompleteEvents, r.Fanout.Events, r.Fanout.AvgReceivers)
			if f := r.Floor; f != nil {
				p("| syscall floor, %d sockets: last receiver p50 / writer CPU per delivery | %s / %.2f µs |", f.Sockets, fmtDur(time.Duration(f.LastP50Seconds*1e9)), f.WriterCPUPerDeliveryMicros)
				p("| hub ÷ floor: last receiver p50 / CPU per delivery | %.2f× / %.2f× |", f.LatencyRatio, f.CPURatio)
			}
		}
		if cpu := r.CPU; cpu.WallSecs > 0 {
			p("")
			p("Generator CPU over the %.0f s of load and drain: %.1f s (%.0f%% of one core). The nodes' own metrics over the same time:",
				cpu.WallSecs, cpu.GeneratorSecs, 100*cpu.GeneratorSecs/cpu.WallSecs)
			p("")
			for _, sv := range r.Server {
				p("- %s", sv.summary(cpu.WallSecs))
			}
		}
		p("")
		p("| latency | count | p50 | p90 | p99 | p99.9 | max |")
		p("| --- | --- | --- | --- | --- | --- | --- |")
		for _, row := range latencyRows {
			h := r.Latency[row.key]
			if h == nil || h.Count() == 0 {
				continue
			}
			p("| %s | %d | %s | %s | %s | %s | %s |", row.label, h.Count(), fmtDur(h.Quantile(.5)), fmtDur(h.Quantile(.9)),
				fmtDur(h.Quantile(.99)), fmtDur(h.Quantile(.999)), fmtDur(h.Max()))
		}
		if len(r.Errors) > 0 {
			p("")
			p("Errors: %s.", kv(r.Errors))
		}
		if len(r.Notes) > 0 {
			p("")
			p("Notes (not failures): %s.", kv(r.Notes))
		}
		for _, wn := range r.Warnings {
			p("")
			p("Warning: %s.", wn)
		}
	}
	p("")
	p("## How to read these numbers")
	p("")
	p("- Booking latency is measured from each request's *intended* start on an open-loop schedule, so a server")
	p("  stall shows up as latency for every request scheduled during it (no coordinated omission); the")
	p("  \"service time only\" row is what a closed-loop tool would report.")
	p("- Push latency is receipt time minus the event's `ts` (its commit time) on the same clock; cross-node means")
	p("  the write went to the other node than the receiving connection, so it crossed Redis.")
	p("- Fan-out \"last receiver\" is, per event, the time from commit until the last of its watchers had it.")
	p("- Every watcher checks seq continuity per topic, and at the end the generator checks each subscription")
	p("  received every seq from its ack to the topic's final seq (read over REST), and each booking's pushes")
	p("  reached every connection of its instructor and student: any loss or duplicate fails the run.")
	p("- The generator shares the two cores with both nodes, Postgres and Redis, so every figure includes its")
	p("  CPU contention; the machine is also shared with other work, see the load average above.")
	p("")
	p("## How to reproduce")
	p("")
	p("```sh")
	p("make bench                       # = ./loadtest/bench.sh; needs Postgres on 127.0.0.1:5432 and Redis on 127.0.0.1:6379")
	p("BENCH_OUT=/tmp/bench make bench  # keep each scenario's JSON and HTML report")
	p("# or one scenario against nodes you started yourself:")
	p("go run ./loadtest -scenario booking-storm -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -html storm.html")
	p("```")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func kv(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("`%s` %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
