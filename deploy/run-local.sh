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

# --- Mail ---------------------------------------------------------------------
# Without SMTP_URL, a local Mailpit (SMTP on 1025, web inbox on 8025) gets
# the emails, so they can be opened in a browser. Installed once into .tools/.
MAIL_UI=""
if [[ -z "${SMTP_URL:-}" ]]; then
  MAILPIT="$PWD/.tools/bin/mailpit"
  if [[ ! -x "$MAILPIT" ]]; then
    say "installing Mailpit v1.33.1 into .tools/bin (local SMTP server with a web inbox; ~1.5 min, once)"
    GOBIN="$PWD/.tools/bin" "${GO:-go}" install github.com/axllent/mailpit@v1.33.1
  fi
  if ! answers 127.0.0.1 1025; then
    mkdir -p .data
    "$MAILPIT" --listen 127.0.0.1:8025 --smtp 127.0.0.1:1025 --database .data/mailpit.db \
      --disable-version-check --quiet >.data/mailpit.log 2>&1 &
    echo $! >.data/mailpit.pid
    for _ in $(seq 50); do answers 127.0.0.1 1025 && break; sleep 0.1; done
    say "Mailpit started (stop with: kill \$(cat .data/mailpit.pid))"
  else
    say "an SMTP server already answers on 127.0.0.1:1025; using it"
  fi
  export SMTP_URL="smtp://127.0.0.1:1025"
  MAIL_UI="http://localhost:8025/"
fi
say "mail: SMTP at $(sed -E 's#(://)[^@/]*@#\1#' <<<"$SMTP_URL")"  # credentials not printed

export APP_ENV="${APP_ENV:-development}"
"$BIN" migrate
"$BIN" seed
ADDR="${HTTP_ADDR:-:8080}"
true
say "  web UI:   http://localhost:${ADDR##*:}/"
say "  API:      http://localhost:${ADDR##*:}/api/v1  (OpenAPI: /openapi.json)"
say "  health:   http://localhost:${ADDR##*:}/health  ready: /ready  metrics: /metrics"
[[ -n "$MAIL_UI" ]] && say "  emails:   $MAIL_UI  (Mailpit inbox: every email the hub sends)"
say "  demo logins (password TestPassword123!): sarah.chen@example.com, john.smith@example.com"
exec "$BIN" serve
