package pgfloor

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed booking.sql booking.args.json change.sql change.args.json
var scripts embed.FS

// Scripts: a booking (one change), and a booking then its cancellation
// (two availability changes, as in the changes scenario).
const (
	Booking = "booking"
	Change  = "change"
)

// Options is one floor measurement.
type Options struct {
	DatabaseURL  string        // the database the scenarios use (seeded: services exist)
	Script       string        // Booking or Change
	Clients      int           // concurrent clients, one instructor each: the scenario's instructors
	Duration     time.Duration // how long pgbench runs (or Transactions per client)
	Transactions int
	Pgbench      string // the binary, default pgbench
}

// Stats is what the floor measured.
type Stats struct {
	Script       string  `json:"script"`
	Clients      int     `json:"clients"`
	Transactions int64   `json:"transactions"` // scripts run to the end
	Failed       int64   `json:"failed"`
	TPS          float64 `json:"tps"`             // scripts per second, connections excluded
	Changes      float64 `json:"changes_per_sec"` // availability changes per second (TPS × changes per script)
	Writes       float64 `json:"bookings_per_sec"`
	P50Millis    float64 `json:"p50_ms"` // per script, its prelude statement included
	P99Millis    float64 `json:"p99_ms"`
}

// Run creates the fixture, runs pgbench and removes the fixture.
func Run(ctx context.Context, o Options) (*Stats, error) {
	text, err := scripts.ReadFile(o.Script + ".sql")
	if err != nil {
		return nil, fmt.Errorf("pgfloor: unknown script %q (want %s or %s)", o.Script, Booking, Change)
	}
	var args map[string]string
	raw, _ := scripts.ReadFile(o.Script + ".args.json")
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, fmt.Errorf("pgfloor: %s.args.json: %w", o.Script, err)
	}
	dsn, err := libpqURL(o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("pgfloor: connect: %w", err)
	}
	defer conn.Close(context.Background())
	dir, err := os.MkdirTemp("", "pgfloor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	firstJob, err := fixture(ctx, conn, filepath.Base(dir), o.Clients, args)
	if err != nil {
		return nil, err
	}
	defer cleanup(context.Background(), conn, firstJob) //nolint:errcheck // best effort: the bench drops the database
	st, err := pgbench(ctx, o, dsn, dir, text)
	if err != nil {
		return nil, err
	}
	st.Script, st.Clients = o.Script, o.Clients
	st.Writes = st.TPS
	st.Changes = st.TPS
	if o.Script == Change {
		st.Changes = 2 * st.TPS // a booking and its cancellation
	}
	return st, nil
}

// pgbench runs the script and reads its summary and per-transaction log.
func pgbench(ctx context.Context, o Options, dsn, dir string, text []byte) (*Stats, error) {
	path := filepath.Join(dir, o.Script+".sql")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return nil, err
	}
	bin, err := pgbenchBinary(o.Pgbench)
	if err != nil {
		return nil, err
	}
	argv := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(o.Clients), "-j", strconv.Itoa(min(o.Clients, 2)),
		"-D", "k=0", "-l", "--log-prefix", filepath.Join(dir, "log"), "-f", path}
	if o.Transactions > 0 {
		argv = append(argv, "-t", strconv.Itoa(o.Transactions))
	} else {
		argv = append(argv, "-T", strconv.Itoa(max(1, int(o.Duration.Seconds()))))
	}
	cmd := exec.CommandContext(ctx, bin, append(argv, dsn)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pgfloor: pgbench: %w\n%s", err, tail(out.String(), 2000))
	}
	st, err := parseSummary(out.String())
	if err != nil {
		return nil, err
	}
	lat, err := readLatencies(dir)
	if err != nil {
		return nil, err
	}
	if len(lat) > 0 {
		st.P50Millis, st.P99Millis = quantile(lat, 0.5), quantile(lat, 0.99)
	}
	return st, nil
}

var (
	processedRE = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	failedRE    = regexp.MustCompile(`number of failed transactions: (\d+)`)
	tpsRE       = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
)

func parseSummary(out string) (*Stats, error) {
	m, t := processedRE.FindStringSubmatch(out), tpsRE.FindStringSubmatch(out)
	if m == nil || t == nil {
		return nil, fmt.Errorf("pgfloor: unexpected pgbench output:\n%s", tail(out, 2000))
	}
	st := &Stats{}
	st.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	st.TPS, _ = strconv.ParseFloat(t[1], 64)
	if f := failedRE.FindStringSubmatch(out); f != nil {
		st.Failed, _ = strconv.ParseInt(f[1], 10, 64)
	}
	return st, nil
}

// readLatencies reads pgbench -l logs: the third field of each line is the
// transaction's latency in microseconds.
func readLatencies(dir string) ([]float64, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "log.*"))
	var out []float64
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 3 {
				continue
			}
			if us, err := strconv.ParseFloat(fs[2], 64); err == nil {
				out = append(out, us/1000)
			}
		}
		fh.Close()
	}
	sort.Float64s(out)
	return out, nil
}

func quantile(sorted []float64, q float64) float64 {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// libpqURL keeps what libpq (pgbench) understands of a pgx URL: pgx's
// pool_* parameters would be refused.
func libpqURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("pgfloor: want a postgres:// URL, got %q", raw)
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pgbenchBinary is name, or pgbench from PATH or the Postgres server's
// own bin directory (Debian: /usr/lib/postgresql/N/bin).
func pgbenchBinary(name string) (string, error) {
	if name != "" && name != "pgbench" {
		return name, nil
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench"); len(m) > 0 {
		return m[len(m)-1], nil
	}
	return "", fmt.Errorf("pgfloor: no pgbench (it comes with the Postgres server: Debian package postgresql-N)")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
