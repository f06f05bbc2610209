package pgfloor

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Stmt is one recorded statement: its SQL, its parameters in Postgres text
// format (nil = NULL) and their types (OIDs, as the server inferred them).
type Stmt struct {
	SQL    string
	Params []*string
	OIDs   []uint32
}

// Trip is what one round trip sent: one statement, or a pipeline (a pgx
// batch: one Sync).
type Trip struct {
	Batch bool
	Stmts []Stmt
}

// Known are the recorded values the replay replaces: per client (the
// fixture's instructor, student, offer) and per transaction (the slot and
// the idempotency key). Every UUID parameter that is none of the client's
// is taken for one the store made for this transaction (booking and
// notification ids) and drawn anew each time.
type Known struct {
	Instructor, Student, Offer string
	Key                        string
	Day                        string // YYYY-MM-DD
	Start, End                 string // HH:MM
	StartsAt, EndsAt, Lo, Hi   time.Time
}

// Script is a pgbench script and the recorded constants it reads (cN).
type Script struct {
	Text string
	Args map[string]string
}

// Postgres type OIDs the classification looks at.
const (
	oidUUID        = 2950
	oidUUIDArray   = 2951
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamptz = 1184
	oidByteaArray  = 1001
)

var (
	placeholder = regexp.MustCompile(`\$([0-9]+)`)
	uuidRE      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	pgbenchVar  = regexp.MustCompile(`(^|[^:]):([A-Za-z_][A-Za-z0-9_]*)`)
)

// builder turns recorded trips into a script, naming values as it meets
// them.
type builder struct {
	k       Known
	uuids   map[string]string // recorded per-transaction UUID → variable
	consts  map[string]string // recorded constant → variable
	args    map[string]string // variable → recorded constant
	randKey map[string]int    // River unique-key arrays: variable → length
	used    map[string]bool
}

// Build renders trips (run after a prelude that draws the per-transaction
// values) as one pgbench script.
func Build(k Known, trips []Trip) (Script, error) {
	b := &builder{k: k, uuids: map[string]string{}, consts: map[string]string{}, args: map[string]string{},
		randKey: map[string]int{}, used: map[string]bool{}}
	b.collectUUIDs(trips)
	var body strings.Builder
	for _, tr := range trips {
		if tr.Batch {
			body.WriteString("\\startpipeline\n")
		}
		for _, s := range tr.Stmts {
			line, err := b.stmt(s)
			if err != nil {
				return Script{}, err
			}
			body.WriteString(line + ";\n")
		}
		if tr.Batch {
			body.WriteString("\\endpipeline\n")
		}
	}
	return Script{Text: b.prelude() + body.String(), Args: b.args}, nil
}

// collectUUIDs names every UUID in uuid and uuid[] parameters that is not
// the client's: the store made it for this transaction.
func (b *builder) collectUUIDs(trips []Trip) {
	for _, tr := range trips {
		for _, s := range tr.Stmts {
			for i, p := range s.Params {
				if p == nil || (s.OIDs[i] != oidUUID && s.OIDs[i] != oidUUIDArray) {
					continue
				}
				for _, u := range uuidRE.FindAllString(*p, -1) {
					if u == b.k.Instructor || u == b.k.Student || u == b.k.Offer || b.uuids[u] != "" {
						continue
					}
					b.uuids[u] = fmt.Sprintf("u%d", len(b.uuids)+1)
				}
			}
		}
	}
}

// stmt renders one statement with its parameters as pgbench variables.
func (b *builder) stmt(s Stmt) (string, error) {
	s.SQL = stripComments(s.SQL)
	if bad := pgbenchVar.FindStringSubmatch(s.SQL); bad != nil {
		return "", fmt.Errorf("statement text has %q, which pgbench would take for a variable: %s", ":"+bad[2], s.SQL)
	}
	var err error
	sql := placeholder.ReplaceAllStringFunc(s.SQL, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		if n < 1 || n > len(s.Params) {
			err = fmt.Errorf("%s has no parameter %d: %s", m, n, s.SQL)
			return m
		}
		return b.param(s.Params[n-1], s.OIDs[n-1])
	})
	return strings.Join(strings.Fields(sql), " "), err
}

// param is the replay's text for one parameter: NULL, or a variable.
func (b *builder) param(p *string, oid uint32) string {
	if p == nil {
		return "NULL"
	}
	v, k := *p, b.k
	name := ""
	switch {
	case v == k.Instructor:
		name = "inst"
	case v == k.Student:
		name = "stud"
	case v == k.Offer:
		name = "offer"
	case v == k.Key:
		name = "ikey"
	case oid == oidUUID && b.uuids[v] != "":
		name = b.uuids[v]
	case oid == oidDate && v == k.Day:
		name = "day"
	case oid == oidTime && strings.HasPrefix(v, k.Start+":"):
		name = "st"
	case oid == oidTime && strings.HasPrefix(v, k.End+":"):
		name = "et"
	case oid == oidTimestamptz:
		name = b.instant(v)
	case oid == oidByteaArray:
		name = fmt.Sprintf("rk%d", len(b.randKey)+1)
		b.randKey[name] = strings.Count(v, `\\x`)
	}
	if name == "" {
		if name = b.consts[v]; name == "" {
			name = fmt.Sprintf("c%d", len(b.consts)+1)
			b.consts[v], b.args[name] = name, v
		}
	}
	b.used[name] = true
	return ":" + name
}

// instant names a timestamptz parameter that is one of the slot's instants.
func (b *builder) instant(v string) string {
	t, err := parseTimestamptz(v)
	if err != nil {
		return ""
	}
	for name, at := range map[string]time.Time{"sat": b.k.StartsAt, "eat": b.k.EndsAt, "lo": b.k.Lo, "hi": b.k.Hi} {
		if t.Equal(at) {
			return name
		}
	}
	return ""
}

func parseTimestamptz(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05Z07"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamptz: %q", v)
}

// prelude draws this transaction's values in one statement before BEGIN:
// the next slot of the client's instructor and student (k counts the
// client's transactions: a new day first, so a day holds few lessons),
// fresh UUIDs, River unique keys, and the recorded constants with the
// recorded ids replaced by this client's and this transaction's.
func (b *builder) prelude() string {
	dur := clockMinutes(b.k.End) - clockMinutes(b.k.Start)
	cols := []string{
		"f.inst", "f.stud", "f.offer",
		"s.day::text AS day", "s.st::text AS st",
		fmt.Sprintf("(s.st + interval '%d minutes')::text AS et", dur),
		"((s.day + s.st) AT TIME ZONE f.tz)::text AS sat",
		fmt.Sprintf("((s.day + s.st + interval '%d minutes') AT TIME ZONE f.tz)::text AS eat", dur),
		"((s.day - 2)::timestamp AT TIME ZONE 'UTC')::text AS lo",
		"((s.day + 3)::timestamp AT TIME ZONE 'UTC')::text AS hi",
		"gen_random_uuid()::text AS ikey",
	}
	for _, rec := range sortedKeys(b.uuids) {
		cols = append(cols, fmt.Sprintf("u.%s", b.uuids[rec]))
	}
	for _, name := range sortedKeys(b.randKey) {
		cols = append(cols, fmt.Sprintf("(SELECT array_agg(decode(md5(random()::text), 'hex')) FROM generate_series(1, %d))::text AS %s", b.randKey[name], name))
	}
	for _, name := range sortedKeys(b.args) {
		cols = append(cols, b.replaced(b.args[name], "a."+name)+" AS "+name)
	}
	var us []string
	for _, rec := range sortedKeys(b.uuids) {
		us = append(us, "gen_random_uuid()::text AS "+b.uuids[rec])
	}
	from := "pgfloor_fixture f, pgfloor_args a,\n  (SELECT current_date + 30 + (:k % 730) AS day, make_time(6 + (:k / 730) % 16, 0, 0) AS st) s"
	if len(us) > 0 {
		from += ",\n  (SELECT " + strings.Join(us, ", ") + ") u"
	}
	return "-- Recorded from the store by loadtest/pgfloor/record_test.go; do not edit (go test ./loadtest/pgfloor -update).\n" +
		"\\set k :k + 1\n" +
		"SELECT " + strings.Join(cols, ",\n  ") + "\nFROM " + from + "\nWHERE f.client = :client_id \\gset\n"
}

// replaced wraps col in replace() for each recorded id its value holds.
func (b *builder) replaced(v, col string) string {
	subs := map[string]string{b.k.Instructor: "f.inst", b.k.Student: "f.stud", b.k.Offer: "f.offer"}
	for rec, name := range b.uuids {
		subs[rec] = "u." + name
	}
	if b.k.Key != "" {
		subs[b.k.Key] = "ikey_placeholder"
	}
	for _, rec := range sortedKeys(subs) {
		if rec == "" || !strings.Contains(v, rec) || subs[rec] == "ikey_placeholder" {
			continue
		}
		col = fmt.Sprintf("replace(%s, '%s', %s)", col, rec, subs[rec])
	}
	return col
}

// stripComments drops -- comments (outside quoted strings): they do
// nothing on the server, and pgbench would read a ":name" in one (sqlc's
// "-- name: JobInsertFastMany :many") as a variable.
func stripComments(sql string) string {
	var out strings.Builder
	quoted := false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case !quoted && c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			c = '\n'
		}
		out.WriteByte(c)
	}
	return out.String()
}

func clockMinutes(hhmm string) int {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return h*60 + m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	microsRE = regexp.MustCompile(`([0-9]{4}-[0-9]{2}-[0-9]{2})([ T])([0-9]{2}:[0-9]{2}:[0-9]{2})\.[0-9]{1,9}`)
	hashRE   = regexp.MustCompile(`\\x[0-9a-f]{64}`)
)

// Canonical rewrites what differs between two recordings of the same code
// — UUIDs (numbered in order of first appearance), the transaction's clock
// readings (timestamps with a fraction of a second), SHA-256 request hashes
// — to fixed values, so the committed scripts change only when the
// statements do.
func Canonical(k Known, trips []Trip) (Known, []Trip) {
	ids := map[string]string{}
	id := func(u string) string {
		if ids[u] == "" {
			ids[u] = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ids)+1)
		}
		return ids[u]
	}
	k.Instructor, k.Student, k.Offer = id(k.Instructor), id(k.Student), id(k.Offer)
	out := make([]Trip, len(trips))
	for i, tr := range trips {
		out[i] = Trip{Batch: tr.Batch}
		for _, s := range tr.Stmts {
			c := Stmt{SQL: s.SQL, OIDs: s.OIDs}
			for _, p := range s.Params {
				if p != nil {
					v := uuidRE.ReplaceAllStringFunc(*p, id)
					v = microsRE.ReplaceAllString(v, "2027-01-04${2}12:00:00.000001")
					v = hashRE.ReplaceAllString(v, `\x`+strings.Repeat("ab", 32))
					p = &v
				}
				c.Params = append(c.Params, p)
			}
			out[i].Stmts = append(out[i].Stmts, c)
		}
	}
	return k, out
}
