#!/usr/bin/env bash
# `make run`: find (or start) Postgres, find Redis, migrate, seed, serve on :8080.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/hubd
say() { printf '==> %s\n' "$*"; }

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# --- Postgres -----------------------------------------------------------------
if [[ -z "${DATABASE_URL:-}" ]]; then
  if answers 127.0.0.1 5432; then
    ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    say "Postgres found at 127.0.0.1:5432"
  else
    PGBIN=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
    PGDATA_DIR="$PWD/.data/pg"
    PORT=55432
    if [[ ! -d "$PGDATA_DIR" ]]; then
      say "no Postgres answering; creating a throwaway cluster in .data/pg"
      mkdir -p .data
      "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust >/dev/null
    fi
    if ! answers 127.0.0.1 $PORT; then
      "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -o "-p $PORT -k $PWD/.data -c listen_addresses=127.0.0.1" -l .data/pg.log -w start >/dev/null
    fi
    ADMIN_URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
    say "Postgres started at 127.0.0.1:$PORT (data in .data/pg; stop with: $PGBIN/pg_ctl -D .data/pg stop)"
  fi
  DATABASE_URL="${ADMIN_URL%/postgres?*}/instainstru?sslmode=disable"
  if ! psql "$ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname='instainstru'" | grep -q 1; then
    psql "$ADMIN_URL" -qc "CREATE DATABASE instainstru" && say "created database instainstru"
  fi
fi
export DATABASE_URL

# --- Redis --------------------------------------------------------------------
if [[ -z "${REDIS_URL:-}" ]] && answers 127.0.0.1 6379; then
  export REDIS_URL="redis://127.0.0.1:6379/0"
fi
if [[ -n "${REDIS_URL:-}" ]]; then say "Redis: $REDIS_URL (multi-node capable)"; else say "no Redis: single node, in-process broker"; fi

export APP_ENV="${APP_ENV:-development}"
"$BIN" migrate
"$BIN" seed
ADDR="${HTTP_ADDR:-:8080}"
true
say "  web UI:   http://localhost:${ADDR##*:}/"
say "  API:      http://localhost:${ADDR##*:}/api/v1  (OpenAPI: /openapi.json)"
say "  health:   http://localhost:${ADDR##*:}/health  ready: /ready  metrics: /metrics"
say "  demo logins (password TestPassword123!): sarah.chen@example.com, john.smith@example.com"
exec "$BIN" serve
