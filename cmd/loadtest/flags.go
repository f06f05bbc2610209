package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"instainstru/loadtest/config"
)

// override is one flag that, when given, replaces what the preset set. bind
// defines the flag on fs and returns what copies its value into a Config.
type override struct {
	name string
	bind func(fs *flag.FlagSet) (apply func(c *config.Config) error)
}

// set is an override of a field by a flag of the field's own type; define
// is the FlagSet method that defines such a flag ((*flag.FlagSet).IntVar…).
func set[T any](define func(*flag.FlagSet, *T, string, T, string), name string, def T, usage string, field func(*config.Config) *T) override {
	return override{name: name, bind: func(fs *flag.FlagSet) func(*config.Config) error {
		v := new(T)
		define(fs, v, name, def, usage)
		return func(c *config.Config) error { *field(c) = *v; return nil }
	}}
}

// parsed is an override given as a string flag that parse turns into the
// field's value (lists of nodes or names).
func parsed[T any](name, usage string, parse func(string) (T, error), field func(*config.Config) *T) override {
	return override{name: name, bind: func(fs *flag.FlagSet) func(*config.Config) error {
		v := fs.String(name, "", usage)
		return func(c *config.Config) error {
			x, err := parse(*v)
			if err != nil {
				return err
			}
			*field(c) = x
			return nil
		}
	}}
}

// The FlagSet methods the override table defines its flags with.
var (
	intVar   = (*flag.FlagSet).IntVar
	floatVar = (*flag.FlagSet).Float64Var
	boolVar  = (*flag.FlagSet).BoolVar
	durVar   = (*flag.FlagSet).DurationVar
	strVar   = (*flag.FlagSet).StringVar
	uintVar  = (*flag.FlagSet).Uint64Var
)

// overrides are the flags that override a preset, applied in flag-name order
// and only when given on the command line.
var overrides = []override{
	parsed("watch-nodes", "comma-separated indexes into -urls that watchers connect to (default: all; fanout/idle-conns: 0)", parseInts, func(c *config.Config) *[]int { return &c.WatchOn }),
	parsed("booking-nodes", "comma-separated indexes into -urls that bookings go to; each instructor's writes go to one of them (default: all; fanout: the last)", parseInts, func(c *config.Config) *[]int { return &c.BookOn }),
	set(durVar, "duration", 0, "length of the load phase (idle-conns: how long connections are held)", func(c *config.Config) *time.Duration { return &c.Duration }),
	set(durVar, "drain", 0, "after the load, how long to wait for the last pushes before counting what is missing", func(c *config.Config) *time.Duration { return &c.Drain }),
	set(intVar, "watchers", 0, "watcher WebSocket connections (N)", func(c *config.Config) *int { return &c.Watchers }),
	set(intVar, "conns", 0, "alias of -watchers (idle-conns)", func(c *config.Config) *int { return &c.Watchers }),
	set(floatVar, "signed-in", 0, "share of watchers signed in as one of the students (0..1); the rest are anonymous", func(c *config.Config) *float64 { return &c.SignedInRatio }),
	set(intVar, "instructors", 0, "instructors (M) whose availability is watched and booked; those with the most open time are chosen", func(c *config.Config) *int { return &c.Instructors }),
	set(intVar, "topics", 0, "availability topics each watcher subscribes to (spread evenly over the M instructors)", func(c *config.Config) *int { return &c.TopicsPerWatcher }),
	set(intVar, "students", 0, "students (K) registered for this run, who book and cancel", func(c *config.Config) *int { return &c.Students }),
	set(intVar, "conversations", 0, "messages: conversations (N) opened between the run's students and instructors", func(c *config.Config) *int { return &c.Conversations }),
	set(floatVar, "rate", 0, "booking attempts per second (R), open loop; 0 = no bookings", func(c *config.Config) *float64 { return &c.Rate }),
	set(boolVar, "poisson", false, "exponential inter-arrival times instead of a fixed interval", func(c *config.Config) *bool { return &c.Poisson }),
	set(floatVar, "cancel-ratio", 0, "share of created bookings cancelled later (0..1)", func(c *config.Config) *float64 { return &c.CancelRatio }),
	set(durVar, "cancel-after", 0, "how long after its booking's intended start a cancellation is sent", func(c *config.Config) *time.Duration { return &c.CancelAfter }),
	set(floatVar, "get-rate", 0, "GET availability requests per second, open loop", func(c *config.Config) *float64 { return &c.GetRate }),
	set(floatVar, "replay-ratio", 0, "share of created bookings POSTed again with the same Idempotency-Key: must return the same booking and push nothing new", func(c *config.Config) *float64 { return &c.ReplayRatio }),
	set(boolVar, "mail-off", false, "the run's students and instructors turn email and reminders off first (PUT /me/notification-settings): a booking then writes no email rows and inserts no jobs, so comparing runs with and without it measures that part of the notification path", func(c *config.Config) *bool { return &c.MailOff }),
	set(intVar, "days", 0, "days ahead (from today, New York) whose open time is booked and read", func(c *config.Config) *int { return &c.DaysAhead }),
	set(intVar, "max-in-flight", 0, "requests allowed in flight before scheduled ones are dropped and counted as errors (default 5000)", func(c *config.Config) *int { return &c.MaxInFlight }),
	set(intVar, "connect-parallel", 0, "connections dialled at once during setup", func(c *config.Config) *int { return &c.ConnectParallel }),
	set(durVar, "timeout", 0, "per-request HTTP timeout (default 10s)", func(c *config.Config) *time.Duration { return &c.RequestTimeout }),
	set(strVar, "password", "", "password of the seeded instructors and of the registered students (default TestPassword123!)", func(c *config.Config) *string { return &c.Password }),
	parsed("instructor-emails", "comma-separated instructor accounts to sign in and prefer (default: guessed from names, first.last@example.com)", splitListOK, func(c *config.Config) *[]string { return &c.InstructorEmails }),
	set(strVar, "email-domain", "", "domain of the students' generated emails (default loadtest.example.com)", func(c *config.Config) *string { return &c.EmailDomain }),
	set(boolVar, "cleanup", true, "cancel the bookings still confirmed at the end, so the next run finds open time", func(c *config.Config) *bool { return &c.Cleanup }),
	set(boolVar, "create-instructors", true, "when the cluster has fewer usable instructors than -instructors, register the rest (two services, open 08:00-20:00 daily)", func(c *config.Config) *bool { return &c.CreateInstructors }),
	set(intVar, "procs", 0, "idle-conns: generator processes (re-executes itself); each holds at most the open-files hard limit minus 200 sockets", func(c *config.Config) *int { return &c.Procs }),
	parsed("source-ips", "idle-conns: comma-separated local addresses, one per process (default with a loopback target: 127.0.0.2, 127.0.0.3, …)", splitListOK, func(c *config.Config) *[]string { return &c.SourceIPs }),
	set(durVar, "settle", 0, "idle-conns: wait after the last connection before scraping RSS again", func(c *config.Config) *time.Duration { return &c.Settle }),
	set(strVar, "run-id", "", "run id used in emails and idempotency keys (default random)", func(c *config.Config) *string { return &c.RunID }),
	set(uintVar, "seed", 0, "random seed of slot and instructor choices (default from the run id)", func(c *config.Config) *uint64 { return &c.Seed }),
	set(boolVar, "strict", false, "exit 1 when a SPEC §7 target is missed, not only on loss, duplication or errors", func(c *config.Config) *bool { return &c.Strict }),
}

// options are the flags that are not preset overrides.
type options struct {
	scenario, urls, monitoringKey string
	jsonOut, htmlOut, cpuProfile  string
	quiet                         bool
}

// defineFlags defines every flag of a run on fs: the options into o and the
// overrides, whose appliers it returns by flag name.
func defineFlags(fs *flag.FlagSet, o *options) map[string]func(*config.Config) error {
	fs.StringVar(&o.scenario, "scenario", "smoke", "named preset: "+config.PresetNames())
	fs.StringVar(&o.urls, "urls", envOr("LOADTEST_URLS", "http://127.0.0.1:8080"), "comma-separated base URLs of the nodes (env LOADTEST_URLS)")
	fs.StringVar(&o.monitoringKey, "monitoring-key", envOr("MONITORING_API_KEY", ""), "MONITORING_API_KEY of the nodes, to scrape /metrics (idle-conns; env MONITORING_API_KEY)")
	fs.StringVar(&o.jsonOut, "json", "", "write the full result (config, counts, histograms with buckets) as JSON to this file")
	fs.StringVar(&o.htmlOut, "html", "", "write a self-contained HTML report with percentile plots and histograms to this file")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile here (to check it is not the bottleneck)")
	appliers := make(map[string]func(*config.Config) error, len(overrides))
	for _, ov := range overrides {
		appliers[ov.name] = ov.bind(fs)
	}
	return appliers
}

// applyOverrides copies every override given on the command line into cfg,
// in flag-name order; it stops at the first value that does not parse.
func applyOverrides(fs *flag.FlagSet, appliers map[string]func(*config.Config) error, cfg *config.Config) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if apply, ok := appliers[f.Name]; ok && err == nil {
			err = apply(cfg)
		}
	})
	return err
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// splitList is the non-empty, trimmed items of a comma-separated list.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func splitListOK(s string) ([]string, error) { return splitList(s), nil }

// parseInts reads a comma-separated list of node indexes.
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
