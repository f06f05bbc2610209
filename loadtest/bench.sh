#!/usr/bin/env bash
# loadtest/bench.sh — `make bench`: measure the SPEC §7 targets on this
# machine and rewrite BENCHMARKS.md with the figures.
#
# It builds cmd/hubd and the load generator, creates a fresh database with a
# unique name on the local Postgres (dropped at the end; no other database is
# touched), migrates and seeds it, starts two nodes on free ports sharing it
# and Redis (127.0.0.1:6379, unique key prefix; a private redis-server when
# none answers), then runs idle-conns, booking-storm and fanout.
#
# Environment (all optional):
#   PGHOST PGPORT PGUSER   local Postgres (default 127.0.0.1 5432 postgres)
#   BENCH_REDIS_URL        Redis to use (default redis://127.0.0.1:6379/0)
#   BENCH_OUT              keep each scenario's JSON/HTML/text report and the node logs here
#   BENCH_MD               file to write (default BENCHMARKS.md at the repo root)
#   BENCH_IDLE_CONNS       idle connections on one node (default 18000)
#   BENCH_SCENARIOS        subset to run, e.g. "booking-storm fanout"
#   BENCH_ARGS             extra flags for every loadtest run (e.g. "-duration 10s")
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
SCENARIOS=${BENCH_SCENARIOS:-idle-conns booking-storm fanout}
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

# free_port prints a TCP port nothing listens on (nor was handed out here).
used_ports=" "
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 30000))
		case "$used_ports" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			used_ports="$used_ports$p "
			echo "$p"
			return 0
		fi
	done
	echo "bench: no free port found" >&2
	return 1
}

log "building cmd/hubd and loadtest"
"$GO" build -o "$WORK/hubd" ./cmd/hubd
"$GO" build -o "$WORK/loadtest" ./loadtest

log "database $DB on $PGHOST:$PGPORT"
pg_isready -q -h "$PGHOST" -p "$PGPORT" || { echo "bench: no Postgres at $PGHOST:$PGPORT (set PGHOST/PGPORT)" >&2; exit 1; }
createdb "$DB"
db_created=1
DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable"

if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
	port=$(free_port)
	log "no Redis at $REDIS_URL: starting a private redis-server on $port"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >"$WORK/redis.log" 2>&1 &
	redis_pid=$!
	REDIS_URL="redis://127.0.0.1:$port/0"
	for _ in $(seq 50); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Sockets are files: give the nodes (children of this shell) the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

node_env=(
	"DATABASE_URL=$DATABASE_URL" "REDIS_URL=$REDIS_URL" "REDIS_PREFIX=$PREFIX" "APP_ENV=test"
	"JWT_SECRET=$SECRET" "MONITORING_API_KEY=$KEY"
	"ALLOW_UNVERIFIED_BOOKING=true" # students are registered by the thousand and never read email
	"RATE_LIMIT_REGISTER_PER_MIN=1000000" "RATE_LIMIT_LOGIN_PER_MIN=1000000" "RATE_LIMIT_LOGIN_FAILURES_PER_MIN=1000000"
)
log "migrate and seed"
env "${node_env[@]}" "$WORK/hubd" migrate
env "${node_env[@]}" "$WORK/hubd" seed >/dev/null

PORT_A=$(free_port)
PORT_B=$(free_port)
NODE_A=http://127.0.0.1:$PORT_A
NODE_B=http://127.0.0.1:$PORT_B
log "nodes $NODE_A (bench-a) and $NODE_B (bench-b)"
env "${node_env[@]}" HTTP_ADDR="127.0.0.1:$PORT_A" NODE_ID=bench-a "$WORK/hubd" serve >"$WORK/node-a.log" 2>&1 &
pids+=($!)
env "${node_env[@]}" HTTP_ADDR="127.0.0.1:$PORT_B" NODE_ID=bench-b "$WORK/hubd" serve >"$WORK/node-b.log" 2>&1 &
pids+=($!)

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

for s in $SCENARIOS; do
	case "$s" in
	# Idle first, on a node that has served nothing yet, so RSS growth is the connections'.
	idle-conns) run_scenario idle-conns -urls "$NODE_A" -conns "$IDLE_CONNS" -procs 2 ;;
	booking-storm) run_scenario booking-storm -urls "$NODE_A,$NODE_B" ;;
	fanout) run_scenario fanout -urls "$NODE_A,$NODE_B" ;;
	*) echo "bench: unknown scenario $s" >&2; status=1 ;;
	esac
done

log "writing $MD"
"$WORK/loadtest" markdown -o "$MD" -load "$LOAD" -elapsed "$((SECONDS - START))s" "${results[@]}"
echo "bench: done in $((SECONDS - START))s; reports in $OUT" >&2
exit "$status"
