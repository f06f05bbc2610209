#!/usr/bin/env bash
# loadtest/bench.sh — `make bench`: measure the SPEC §7 targets on this
# machine and rewrite BENCHMARKS.md with the figures.
#
# It builds cmd/hubd and the load generator, creates a fresh database with a
# unique name on the local Postgres (dropped at the end; no other database is
# touched), migrates and seeds it, starts two nodes on ports the kernel picks
# (HTTP_ADDR=127.0.0.1:0; each node logs its address) sharing it
# and Redis (127.0.0.1:6379, unique key prefix; a private redis-server when
# none answers), then runs idle-conns, booking-steady, booking-storm, changes
# and fanout (and booking-80: booking-storm at 80 % of the floor's rate).
# Before the nodes start it measures the write path's Postgres
# floor (`loadtest pgfloor`: a booking's and a change's statements replayed
# by pgbench, one client per instructor, on the same database) and reports
# the write scenarios as a ratio to it.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER   local Postgres (default 127.0.0.1 5432 postgres)
#   BENCH_REDIS_URL        Redis to use (default redis://127.0.0.1:6379/0)
#   BENCH_OUT              keep each scenario's JSON/HTML/text report and the node logs here
#   BENCH_MD               file to write (default BENCHMARKS.md at the repo root)
#   BENCH_IDLE_CONNS       idle connections on one node (default 18000)
#   BENCH_SCENARIOS        subset to run, e.g. "booking-steady booking-storm changes fanout"
#   BENCH_ARGS             extra flags for every loadtest run (e.g. "-duration 10s", "-mail-off")
#   BENCH_HUBD             a prebuilt hubd to run instead of building ./cmd/hubd (A/B runs of two builds)
#   BENCH_PGFLOOR          0 skips the Postgres floor (default: measured when a write scenario runs)
#   BENCH_PGFLOOR_DURATION how long each floor script runs (default 10s)
#   BENCH_MAILPIT          a Mailpit binary (e.g. .tools/bin/mailpit): the nodes send their email
#                          through a private one on the same cores. Default none: no SMTP_URL,
#                          emails stay queued, so the SPEC §7 figures stay comparable between runs
# Exit status: 0 when every scenario ran with zero loss, duplication and
# errors (missed latency targets are recorded in BENCHMARKS.md, not fatal);
# 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
GO=${GO:-go}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
MD=${BENCH_MD:-$ROOT/BENCHMARKS.md}
IDLE_CONNS=${BENCH_IDLE_CONNS:-18000}
SCENARIOS=${BENCH_SCENARIOS:-idle-conns booking-steady booking-storm booking-80 changes fanout}
read -r -a EXTRA <<<"${BENCH_ARGS:-}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/instainstru-bench.XXXXXX")
OUT=${BENCH_OUT:-$WORK/out}
mkdir -p "$OUT"
RUN=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
DB=instainstru_bench_$RUN
PREFIX="bench$RUN:"
KEY=bench-monitoring-$RUN
SECRET=bench-jwt-secret-$RUN-0123456789abcdef0123456789
LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
START=$SECONDS

pids=()
db_created=0
redis_pid=
status=0
floor_args=()

log() { printf '\n== %s\n' "$*" >&2; }

cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$db_created" = 1 ]; then
		psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
			echo "bench: could not drop database $DB" >&2
	fi
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	elif command -v redis-cli >/dev/null; then
		# Only this run's keys: they all carry its unique prefix.
		redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" 2>/dev/null |
			xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
	fi
	if [ -n "${BENCH_OUT:-}" ]; then
		cp "$WORK"/*.log "$OUT"/ 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ "$status" -ne 0 ]; then
		echo "bench: node logs and reports kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: every listener here is opened on port 0, so the kernel hands out
# a port that is free at that moment and nobody can take it between "found
# free" and "bound" (a probe of a random port could race another process
# and, worse, leave the generator talking to a stranger's server). Each
# server then says which port it got, and the port is checked to belong to
# the process we started.

# listening_ports PID: the 127.0.0.1 TCP ports PID listens on.
listening_ports() {
	local pid=$1 inode hex
	ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p' | while read -r inode; do
		for hex in $(awk -v i="$inode" 'NR > 1 && $4 == "0A" && $10 == i && $2 ~ /^0100007F:/ {split($2, a, ":"); print a[2]}' /proc/net/tcp); do
			echo $((16#$hex))
		done
	done
}

# owned_by PID PORT: true when PID (or a thread of it) listens on 127.0.0.1:PORT.
owned_by() {
	listening_ports "$1" | grep -x "$2" >/dev/null # not -q: an early exit would SIGPIPE the producer (pipefail)
}

# node_addr LOG PID: waits for the hub node PID to log the address it
# serves on (HTTP_ADDR=127.0.0.1:0) and prints it.
node_addr() {
	local log=$1 pid=$2 addr
	for _ in $(seq 300); do
		addr=$(grep -m1 '"msg":"serving"' "$log" 2>/dev/null | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p')
		if [ -n "$addr" ]; then
			if ! owned_by "$pid" "${addr##*:}"; then
				echo "bench: $addr is not held by node $pid" >&2
				return 1
			fi
			echo "$addr"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { echo "bench: node $pid exited; see $log" >&2; return 1; }
		sleep 0.1
	done
	echo "bench: node $pid did not report its address; see $log" >&2
	return 1
}

log "building cmd/hubd and cmd/loadtest"
if [ -n "${BENCH_HUBD:-}" ]; then
	cp "$BENCH_HUBD" "$WORK/hubd"
else
	"$GO" build -o "$WORK/hubd" ./cmd/hubd
fi
"$GO" build -o "$WORK/loadtest" ./cmd/loadtest

log "database $DB on $PGHOST:$PGPORT"
pg_isready -q -h "$PGHOST" -p "$PGPORT" || { echo "bench: no Postgres at $PGHOST:$PGPORT (set PGHOST/PGPORT)" >&2; exit 1; }
createdb "$DB"
db_created=1
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable"

if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
	log "no Redis at $REDIS_URL: starting a private redis-server on a free port"
	# redis-server cannot listen on port 0 for TCP: a Unix socket is ours alone.
	sock="$WORK/redis.sock"
	redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save '' --appendonly no --loglevel warning >"$WORK/redis.log" 2>&1 &
	redis_pid=$!
	REDIS_URL="unix://$sock?db=0"
	for _ in $(seq 50); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Email: with BENCH_MAILPIT the nodes send through a private Mailpit, so the
# job workers' sending (and Mailpit itself) is part of the measured load;
# without it emails stay queued, as on any node without SMTP_URL.
SMTP_URL=
MAILPIT_BIN=${BENCH_MAILPIT:-}
if [ -n "$MAILPIT_BIN" ]; then
	[ -x "$MAILPIT_BIN" ] || { echo "bench: BENCH_MAILPIT=$MAILPIT_BIN is not an executable" >&2; exit 1; }
	"$MAILPIT_BIN" --listen 127.0.0.1:0 --smtp 127.0.0.1:0 --database "$WORK/mailpit.db" --disable-version-check --quiet >"$WORK/mailpit.log" 2>&1 &
	pids+=($!)
	mp_pid=$!
	for _ in $(seq 50); do
		for port in $(listening_ports "$mp_pid"); do
			# The SMTP listener greets first ("220 …"); the HTTP one waits.
			if exec 3<>"/dev/tcp/127.0.0.1/$port" && read -r -t 1 greeting <&3 && [[ $greeting == 220* ]]; then
				SMTP_URL=smtp://127.0.0.1:$port
			fi
			exec 3>&- 3<&- || true
		done
		[ -n "$SMTP_URL" ] && break
		sleep 0.1
	done
	log "mailpit for the nodes' email: ${SMTP_URL:-none found, emails stay queued}"
fi

# Sockets are files: give the nodes (children of this shell) the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

node_env=(
	"DATABASE_URL=$DATABASE_URL" "REDIS_URL=$REDIS_URL" "REDIS_PREFIX=$PREFIX" "APP_ENV=test"
	"JWT_SECRET=$SECRET" "MONITORING_API_KEY=$KEY"
	"ALLOW_UNVERIFIED_BOOKING=true" # students are registered by the thousand and never read email
	"RATE_LIMIT_REGISTER_PER_MIN=1000000" "RATE_LIMIT_LOGIN_PER_MIN=1000000" "RATE_LIMIT_LOGIN_FAILURES_PER_MIN=1000000"
	"RATE_LIMIT_MESSAGES_PER_MIN=1000000" # the messages scenario sends ~3 messages/s per user
	# thousands of watchers from one address, several sockets per student
	"WS_MAX_PER_ADDRESS=1000000" "WS_MAX_PER_USER=1000000" "WS_MAX_TOPICS_PER_ADDRESS=1000000"
	"SMTP_URL=$SMTP_URL" "MAIL_FROM=bench@example.com"
)
log "migrate and seed"
env "${node_env[@]}" "$WORK/hubd" migrate
env "${node_env[@]}" "$WORK/hubd" seed >/dev/null

# The write path's Postgres floor, before the nodes start so nothing else
# writes meanwhile: one pgbench client per instructor of the scenario
# (booking-storm and booking-steady book 50 instructors, changes 10).
run_floor() {
	local script=$1 clients=$2
	log "postgres floor: $script, $clients clients"
	set +e
	"$WORK/loadtest" pgfloor -db "$DATABASE_URL" -script "$script" -clients "$clients" \
		-duration "${BENCH_PGFLOOR_DURATION:-10s}" -json "$OUT/pgfloor-$script.json" | tee "$OUT/pgfloor-$script.txt"
	local rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -ne 0 ]; then
		echo "bench: postgres floor ($script) exited $rc" >&2
		status=1
	fi
	floor_args+=(-pgfloor "$OUT/pgfloor-$script.json")
}
if [ "${BENCH_PGFLOOR:-1}" != 0 ]; then
	case " $SCENARIOS " in *" booking-storm "* | *" booking-steady "* | *" booking-80 "*) run_floor booking 50 ;; esac
	case " $SCENARIOS " in *" changes "*) run_floor change 10 ;; esac
fi

env "${node_env[@]}" HTTP_ADDR=127.0.0.1:0 NODE_ID=bench-a "$WORK/hubd" serve >"$WORK/node-a.log" 2>&1 &
pids+=($!)
ADDR_A=$(node_addr "$WORK/node-a.log" "$!")
env "${node_env[@]}" HTTP_ADDR=127.0.0.1:0 NODE_ID=bench-b "$WORK/hubd" serve >"$WORK/node-b.log" 2>&1 &
pids+=($!)
ADDR_B=$(node_addr "$WORK/node-b.log" "$!")
NODE_A=http://$ADDR_A
NODE_B=http://$ADDR_B
log "nodes $NODE_A (bench-a) and $NODE_B (bench-b)"

results=()
run_scenario() {
	local name=$1
	shift
	log "scenario $name"
	results+=("$OUT/$name.json")
	rm -f "$OUT/$name.json"
	set +e
	"$WORK/loadtest" -scenario "$name" -monitoring-key "$KEY" -json "$OUT/$name.json" -html "$OUT/$name.html" \
		"$@" "${EXTRA[@]}" | tee "$OUT/$name.txt"
	local rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -ne 0 ]; then
		echo "bench: scenario $name exited $rc" >&2
		status=1
	fi
}

# booking-80: SPEC §7's "at 80 % of the Postgres floor's bookings/s, POST
# /bookings p99 ≤ 50 ms": booking-storm's preset (and targets) at that rate,
# reported as its own section, booking-80pct-floor.
run_floor80() {
	local name=booking-80pct-floor rate
	rate=$(sed -n 's/.*"bookings_per_sec": *\([0-9.]*\).*/\1/p' "$OUT/pgfloor-booking.json" 2>/dev/null | head -1)
	if [ -z "$rate" ]; then
		echo "bench: booking-80 needs the booking floor, which did not run" >&2
		status=1
		return
	fi
	rate=$(awk -v r="$rate" 'BEGIN { printf "%.1f", 0.8 * r }')
	log "scenario $name: booking-storm at $rate bookings/s"
	results+=("$OUT/$name.json")
	rm -f "$OUT/$name.json"
	set +e
	"$WORK/loadtest" -scenario booking-storm -rate "$rate" -urls "$NODE_A,$NODE_B" -monitoring-key "$KEY" \
		-json "$OUT/$name.json" -html "$OUT/$name.html" "${EXTRA[@]}" | tee "$OUT/$name.txt"
	local rc=${PIPESTATUS[0]}
	set -e
	sed -i 's/"scenario": *"booking-storm"/"scenario": "booking-80pct-floor"/' "$OUT/$name.json" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		echo "bench: scenario $name exited $rc" >&2
		status=1
	fi
}

for s in $SCENARIOS; do
	case "$s" in
	booking-80) run_floor80 ;;
	# Idle first, on a node that has served nothing yet, so RSS growth is the connections'.
	idle-conns) run_scenario idle-conns -urls "$NODE_A" -conns "$IDLE_CONNS" -procs 2 ;;
	booking-storm) run_scenario booking-storm -urls "$NODE_A,$NODE_B" ;;
	booking-steady) run_scenario booking-steady -urls "$NODE_A,$NODE_B" ;;
	changes) run_scenario changes -urls "$NODE_A,$NODE_B" ;;
	fanout) run_scenario fanout -urls "$NODE_A,$NODE_B" ;;
	messages) run_scenario messages -urls "$NODE_A,$NODE_B" ;;
	*) echo "bench: unknown scenario $s" >&2; status=1 ;;
	esac
done

log "writing $MD"
prev="$WORK/previous.md"
[ -f "$MD" ] && cp "$MD" "$prev"
"$WORK/loadtest" markdown -o "$MD" -load "$LOAD" -elapsed "$((SECONDS - START))s" "${floor_args[@]}" "${results[@]}"
# Keep the previous run's machine and target tables beside the new ones, so
# a change shows as before/after in one file (only the latest previous run:
# its own "previous" section is not carried again).
if [ -s "$prev" ]; then
	{
		printf '\n## Previous run (kept for comparison)\n\n'
		printf 'The run this file described before the one above: its machine and its target table.\n'
		awk '/^## Previous run/ {exit} /^## Machine and run/ {on=1} /^## / && !/^## Machine and run/ && !/^## SPEC/ {on=0} on' "$prev" |
			sed 's/^## /### /'
	} >>"$MD"
fi
echo "bench: done in $((SECONDS - START))s; reports in $OUT" >&2
exit "$status"
