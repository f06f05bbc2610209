package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"instainstru/loadtest/pgfloor"
	"instainstru/loadtest/report"
	"io"
	"os"
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
	var floorFiles []string
	fs.Func("pgfloor", "a `loadtest pgfloor -json` file to compare the write scenarios with (repeatable)", func(p string) error {
		floorFiles = append(floorFiles, p)
		return nil
	})
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
	var results []*report.Result
	var failed []string
	for _, p := range fs.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			// A scenario that could not run leaves no JSON; say so in the file.
			failed = append(failed, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		var r report.Result
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintf(stderr, "loadtest markdown: %s: %v\n", p, err)
			return 2
		}
		results = append(results, &r)
	}
	var floors []*pgfloor.Stats
	for _, p := range floorFiles {
		var f pgfloor.Stats
		b, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(b, &f)
		}
		if err != nil {
			// A floor that could not run is said so in the file, as a scenario would be.
			failed = append(failed, fmt.Sprintf("postgres floor %s: %v", p, err))
			continue
		}
		floors = append(floors, &f)
	}
	rows := report.CompareWithPgFloor(results, floors)
	var b bytes.Buffer
	if err := report.WriteMarkdownWithFloors(&b, results, rows, failed, report.MachineInfo(*loadBefore), *elapsed); err != nil {
		fmt.Fprintf(stderr, "loadtest markdown: %v\n", err)
		return 2
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "loadtest markdown: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}
