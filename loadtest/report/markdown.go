package report

import (
	"bufio"
	"fmt"
	"instainstru/loadtest/measure"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/template"
	"time"
)

type machine struct {
	Cores, CPU, Memory, Commit, Go, Kernel, Load, Date string
}

func MachineInfo(load string) machine {
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

// markdownData is what markdownTmpl renders.
type markdownData struct {
	Floors  []FloorRow // write scenarios beside the Postgres floor (CompareWithPgFloor)
	Results []*Result
	Failed  []string
	M       machine
	Elapsed time.Duration
}

// latencyLine is one result's latency rows that have observations.
type latencyLine struct {
	Label                    string
	Count                    uint64
	P50, P90, P99, P999, Max string
}

func latencyLines(r *Result) []latencyLine {
	var out []latencyLine
	for _, row := range latencyRows {
		h := r.Latency[row.key]
		if h == nil || h.Count() == 0 {
			continue
		}
		out = append(out, latencyLine{row.label, h.Count(), measure.FmtDur(h.Quantile(.5)), measure.FmtDur(h.Quantile(.9)),
			measure.FmtDur(h.Quantile(.99)), measure.FmtDur(h.Quantile(.999)), measure.FmtDur(h.Max())})
	}
	return out
}

var reportFuncs = map[string]any{
	"dur":       measure.FmtDur,
	"secs":      func(s float64) string { return measure.FmtDur(time.Duration(s * 1e9)) },
	"kib":       func(b float64) float64 { return b / 1024 },
	"mib":       func(b float64) float64 { return b / (1 << 20) },
	"pct":       func(part, whole float64) float64 { return 100 * part / whole },
	"times100":  func(v float64) float64 { return v * 100 },
	"latencies": latencyLines,
	"orDash":    orDash,
	"kv":        kv,
	"join":      strings.Join,
	"summary":   func(sv ServerStats, wall float64) string { return sv.summary(wall) },
	"errorKeys": sortedKeys,
	"round":     func(d time.Duration) time.Duration { return d.Round(time.Second) },
}

var markdownTmpl = template.Must(template.New("md").Funcs(reportFuncs).Parse(`# Benchmarks

Figures measured by ` + "`make bench` (`loadtest/bench.sh`), which builds `cmd/hubd`" + `, creates a fresh database,
seeds it, starts two hub nodes sharing Postgres and Redis on this machine, and runs the load generator's
scenarios (` + "`go run ./cmd/loadtest -h`" + ` explains them) on the same cores. This file is rewritten by each run;
the numbers below are from the run described here, not hand-edited.

## Machine and run

| | |
| --- | --- |
| date | {{.M.Date}} |
| cores (nproc) | {{.M.Cores}} |
| CPU | {{orDash .M.CPU}} |
| memory | {{orDash .M.Memory}} |
| kernel | {{orDash .M.Kernel}} |
| commit | {{orDash .M.Commit}} |
| Go | {{.M.Go}} |
| load average at start (1/5/15 min) | {{orDash .M.Load}} |
{{- if gt .Elapsed 0}}
| whole benchmark took | {{round .Elapsed}} |
{{- end}}
| topology | 2 hub nodes, Postgres, Redis and the generator on the same {{.M.Cores}} cores |

## SPEC §7 targets

| scenario | target | value | limit | result |
| --- | --- | --- | --- | --- |
{{- range $r := .Results}}
{{- range .Targets}}
| {{$r.Scenario}} | {{.Name}} | {{.Value}} | {{.Limit}} | {{if .Pass}}pass{{else}}**MISS**{{end}} |
{{- end}}
| {{.Scenario}} | run checks (loss, duplication, errors) | | | {{if .Pass}}pass{{else}}**FAIL**: {{join .Failures "; "}}{{end}} |
{{- end}}
{{- range .Failed}}
| — | scenario did not complete | {{.}} | | **FAIL** |
{{- end}}
{{- if .Floors}}

## Write path beside the Postgres floor

The floor is the same statements a booking (and a change: a booking and its cancellation) sends, recorded
from the store (` + "`loadtest/pgfloor`" + `) and replayed by ` + "`pgbench`" + ` against the same database, one client per
instructor as the hub serializes each instructor's writes, no Go in between. Each floor script also runs one
statement before BEGIN that draws its ids and slot (the hub makes those in Go).

| scenario | floor clients | floor rate | floor p50 / p99 per script | hub rate | hub ÷ floor |
| --- | --- | --- | --- | --- | --- |
{{- range .Floors}}
| {{.Scenario}} | {{.Floor.Clients}} | {{printf "%.0f" .FloorRate}} {{.What}} | {{printf "%.1f" .Floor.P50Millis}} / {{printf "%.1f" .Floor.P99Millis}} ms | {{printf "%.0f" .Hub}} {{.What}} | **{{printf "%.2f" .Ratio}}×** |
{{- end}}
{{- end}}
{{- range $r := .Results}}

## {{.Scenario}}

{{with .Idle -}}
{{.Connections}} idle connections (each subscribed to {{$r.Config.TopicsPerWatcher}} availability topic) from {{.Procs}} generator processes, held {{printf "%.0f" .HoldSecs}} s.
Each process may open {{.FDLimit}} files (hard limit, not raisable here), so the count is the largest that fits one node.

| node | connections | server gauge | RSS before | RSS after | RSS per connection | heap / stacks / goroutines per connection |
| --- | --- | --- | --- | --- | --- | --- |
{{- range .Nodes}}
| {{.URL}} | {{.Connections}} | {{printf "%.0f" .ServerConnsGauge}} | {{printf "%.1f" (mib .RSSBefore)}} MiB | {{printf "%.1f" (mib .RSSAfter)}} MiB | **{{printf "%.1f" (kib .BytesPerConn)}} KiB** | {{printf "%.1f" (kib .HeapPerConn)}} KiB / {{printf "%.1f" (kib .StackPerConn)}} KiB / {{printf "%.2f" .GoroutinesPerConn}} |
{{- end}}

Connection setup: {{printf "%.0f" $r.Connections.PerSecond}} connections/s ({{$r.Connections.Open}} open, {{$r.Connections.Failed}} failed, {{.Dropped}} dropped while held).
{{- else with .Messages -}}
{{.Conversations}} conversations between {{.Users}} users (students' sockets on the first node, instructors' on the last, so every message crosses nodes); {{printf "%.1f" .TargetRate}} messages/s open-loop for {{$r.Config.Duration}}.

| count | value |
| --- | --- |
| messages sent (rate) / errors | {{.Sent}} ({{printf "%.1f" .AchievedRate}}/s) / {{.Errors}} |
| deliveries expected (recipient + sender's own socket) / received | {{$r.Delivery.ExpectedEvents}} / {{$r.Delivery.ReceivedEvents}} |
| lost / duplicated | **{{$r.Delivery.Lost}} / {{$r.Delivery.Duplicated}}** |
{{- else -}}
{{with .Config}}{{.Watchers}} watchers ({{printf "%.0f" (times100 .SignedInRatio)}}% signed in) on nodes {{.WatchOn}}, {{.TopicsPerWatcher}} topics each over {{.Instructors}} instructors; {{.Students}} students booking at {{printf "%.1f" .Rate}}/s open-loop for {{.Duration}} (cancelling {{printf "%.0f" (times100 .CancelRatio)}}% after {{.CancelAfter}}), {{printf "%.0f" .GetRate}} availability GETs/s.{{end}}

| count | value |
| --- | --- |
{{- with .Connections}}
| connections open / requested (by node) | {{.Open}} / {{.Requested}} {{.ByNode}} |
| connection setup rate | {{printf "%.0f" .PerSecond}} /s |
| reconnects during the run | {{.Reconnects}} |
{{- end}}
{{- with .Bookings}}
| booking attempts scheduled / POSTs sent (rate) | {{.Scheduled}} / {{.Sent}} ({{printf "%.1f" .AchievedRate}}/s) |
| created / 409 conflicts / shed (503) / errors | {{.Created}} / {{.Conflicts}} / {{.Shed}} / {{.Errors}} |
| slots chosen blind (the generator's view had no open time left) | {{.NoOpenSlot}} |
| cancellations ok / shed (503) / errors | {{.Cancelled}} / {{.CancelShed}} / {{.CancelErrors}} |
| availability GETs (errors) | {{.Gets}} ({{.GetErrors}}) |
{{- end}}
{{- with .Delivery}}
| availability events expected / received | {{.ExpectedEvents}} / {{.ReceivedEvents}} |
| lost / duplicated | **{{.Lost}} / {{.Duplicated}}** |
| booking pushes expected / received / lost / duplicated | {{.BookingPushExpected}} / {{.BookingPushReceived}} / {{.BookingPushLost}} / {{.BookingPushDup}} |
{{- end}}
| fan-out events complete / total (receivers per event) | {{.Fanout.CompleteEvents}} / {{.Fanout.Events}} ({{printf "%.0f" .Fanout.AvgReceivers}}) |
{{- with .Floor}}
| syscall floor, {{.Sockets}} sockets: last receiver p50 / writer CPU per delivery | {{secs .LastP50Seconds}} / {{printf "%.2f" .WriterCPUPerDeliveryMicros}} µs |
| hub ÷ floor: last receiver p50 / CPU per delivery | {{printf "%.2f" .LatencyRatio}}× / {{printf "%.2f" .CPURatio}}× |
{{- end}}
{{- end}}
{{- if gt .CPU.WallSecs 0.0}}

Generator CPU over the {{printf "%.0f" .CPU.WallSecs}} s of load and drain: {{printf "%.1f" .CPU.GeneratorSecs}} s ({{printf "%.0f" (pct .CPU.GeneratorSecs .CPU.WallSecs)}}% of one core). The nodes' own metrics over the same time:
{{range .Server}}
- {{summary . $r.CPU.WallSecs}}
{{- end}}
{{- end}}

| latency | count | p50 | p90 | p99 | p99.9 | max |
| --- | --- | --- | --- | --- | --- | --- |
{{- range latencies $r}}
| {{.Label}} | {{.Count}} | {{.P50}} | {{.P90}} | {{.P99}} | {{.P999}} | {{.Max}} |
{{- end}}
{{- if .Errors}}

Errors: {{kv .Errors}}.
{{- end}}
{{- if .Notes}}

Notes (not failures): {{kv .Notes}}.
{{- end}}
{{- range .Warnings}}

Warning: {{.}}.
{{- end}}
{{- end}}

## How to read these numbers

- Booking latency is measured from each request's *intended* start on an open-loop schedule, so a server
  stall shows up as latency for every request scheduled during it (no coordinated omission); the
  "service time only" row is what a closed-loop tool would report.
- Push latency is receipt time minus the event's ` + "`ts`" + ` (its commit time) on the same clock; cross-node means
  the write went to the other node than the receiving connection, so it crossed Redis.
- Fan-out "last receiver" is, per event, the time from commit until the last of its watchers had it.
- Every watcher checks seq continuity per topic, and at the end the generator checks each subscription
  received every seq from its ack to the topic's final seq (read over REST), and each booking's pushes
  reached every connection of its instructor and student: any loss or duplicate fails the run.
- The generator shares the two cores with both nodes, Postgres and Redis, so every figure includes its
  CPU contention; the machine is also shared with other work, see the load average above.

## How to reproduce

` + "```sh" + `
make bench                       # = ./loadtest/bench.sh; needs Postgres on 127.0.0.1:5432 and Redis on 127.0.0.1:6379
BENCH_OUT=/tmp/bench make bench  # keep each scenario's JSON and HTML report
# or one scenario against nodes you started yourself:
go run ./cmd/loadtest -scenario booking-storm -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -html storm.html
` + "```" + `
`))

// WriteMarkdown renders BENCHMARKS.md (markdownTmpl) from the results.
func WriteMarkdown(w io.Writer, results []*Result, failed []string, m machine, elapsed time.Duration) error {
	return WriteMarkdownWithFloors(w, results, nil, failed, m, elapsed)
}

// WriteMarkdownWithFloors is WriteMarkdown with the write scenarios beside
// the Postgres floor (CompareWithPgFloor, which also adds its target).
func WriteMarkdownWithFloors(w io.Writer, results []*Result, floors []FloorRow, failed []string, m machine, elapsed time.Duration) error {
	return markdownTmpl.Execute(w, markdownData{Results: results, Floors: floors, Failed: failed, M: m, Elapsed: elapsed})
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
