package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"instainstru/loadtest/pgfloor"
)

// pgfloorMain is `loadtest pgfloor`: the write path's Postgres floor — a
// booking's (or a change's) statements replayed by pgbench, one client per
// instructor — against the database the nodes use.
func pgfloorMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest pgfloor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o pgfloor.Options
	fs.StringVar(&o.DatabaseURL, "db", os.Getenv("DATABASE_URL"), "the seeded database the scenarios use (postgres:// URL)")
	fs.StringVar(&o.Script, "script", pgfloor.Booking, "booking (a booking) or change (a booking and its cancellation: two availability changes)")
	fs.IntVar(&o.Clients, "clients", 50, "concurrent clients, one instructor each (the scenario's instructors)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long pgbench runs")
	fs.StringVar(&o.Pgbench, "pgbench", "pgbench", "the pgbench binary")
	jsonOut := fs.String("json", "", "write the figures to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	st, err := pgfloor.Run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	fmt.Fprintf(stdout, "postgres floor (%s, %d clients): %.0f scripts/s (%.0f bookings/s, %.0f changes/s), p50 %.1f ms, p99 %.1f ms, %d failed\n",
		st.Script, st.Clients, st.TPS, st.Writes, st.Changes, st.P50Millis, st.P99Millis, st.Failed)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(st, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
	}
	return 0
}
