package main

import (
	"flag"
	"fmt"
	"instainstru/loadtest/floor"
	"io"
)

// floorMain is `loadtest floor`: the floor alone, no server needed.
func floorMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("sockets", floor.DefaultSockets, "loopback socket pairs (two open files each)")
	rounds := fs.Int("rounds", 20, "fan-outs measured")
	var opt floor.Options
	fs.StringVar(&opt.Mode, "mode", "", "the writer: write (one write(2) per socket, the default) or uring (io_uring sends, batched); naming either adds a whole-process CPU line")
	fs.IntVar(&opt.UringEntries, "uring-entries", 4096, "uring: submission ring size, the sends per io_uring_enter")
	fs.StringVar(&opt.UringFlags, "uring-flags", "defer", "uring: ring setup flags: defer (SINGLE_ISSUER|DEFER_TASKRUN), coop (COOP_TASKRUN) or none")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if opt.Mode != "" && opt.Mode != "write" && opt.Mode != "uring" {
		fmt.Fprintf(stderr, "loadtest: floor: -mode %q: want write or uring\n", opt.Mode)
		return 2
	}
	f, err := floor.MeasureMode(*n, *rounds, opt)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	for _, l := range f.Lines() {
		fmt.Fprintln(stdout, l)
	}
	return 0
}
