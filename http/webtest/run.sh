#!/usr/bin/env bash
# End-to-end browser test of the live web page (make e2e).
#
# First runs the Node unit tests of the page's socket client
# (live.test.mjs: resume by seq, replay, reconnect, reset → refetch).
# Installs what it needs when missing (Debian's chromium, playwright-core via
# npm ci), builds cmd/hubd, creates one uniquely named database (dropped at
# the end, and only that one), migrates and seeds it, then runs e2e.mjs, which
# starts a single hub node on a free port (APP_ENV=test) and drives three
# browser contexts against it. Screenshots and logs land in artifacts/e2e/.
# UPDATE_SCREENSHOTS=1 also copies the README screenshots into http/webtest/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
art="$root/artifacts/e2e"
mkdir -p "$art"

if [[ ! -x /usr/bin/chromium ]]; then
  echo "e2e: installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
if [[ ! -d "$here/node_modules/playwright-core" || ! -d "$here/node_modules/axe-core" ]]; then
  echo "e2e: npm ci (playwright-core, axe-core)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if ! command -v node >/dev/null; then
  echo "e2e: installing nodejs (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
fi

# Unit tests of the page's socket client (live.js) against a fake socket:
# seconds, and no point starting a browser when they fail.
echo "e2e: node --test live.test.mjs"
(cd "$here" && node --test live.test.mjs)

bin="$(mktemp -d)"
chmod 755 "$bin"
db="instainstru_e2e_$(date +%s)_$$"
pidfile="$bin/hubd.pid"
pgdata="" as_pg=""
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }

cleanup() {
  local rc=$?
  if [[ -s "$pidfile" ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || echo "e2e: could not drop database $db" >&2
  if [[ -n "$pgdata" ]]; then $as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true; fi
  if [[ -n "${mailpit_pid:-}" ]]; then kill "$mailpit_pid" 2>/dev/null || true; fi
  rm -rf "$bin"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# Postgres: TEST_DATABASE_URL, else the local server, else a throwaway
# cluster in $bin (initdb refuses root, so it runs as the postgres user).
if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  admin_url="$TEST_DATABASE_URL"
elif pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  admin_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
else
  pgbin="$(dirname "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")"
  if [[ "$(id -u)" == 0 ]]; then as_pg="runuser -u postgres --"; fi
  pgdata="$bin/pg"; pgport="$(free_port)"
  mkdir -p "$pgdata"
  if [[ -n "$as_pg" ]]; then chown postgres "$pgdata"; fi
  echo "e2e: starting a throwaway Postgres on 127.0.0.1:$pgport"
  $as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust >/dev/null
  $as_pg "$pgbin/pg_ctl" -D "$pgdata" -o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1" -w start >/dev/null
  admin_url="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"
fi

echo "e2e: building cmd/hubd"
(cd "$root" && go build -o "$bin/hubd" ./cmd/hubd)

# Mailpit: the real SMTP server the hub sends to; e2e.mjs reads its API.
mailpit="$root/.tools/bin/mailpit"
if [[ ! -x "$mailpit" ]]; then
  echo "e2e: installing Mailpit into .tools/bin (~1.5 min, once)"
  (cd "$root" && GOBIN="$root/.tools/bin" go install github.com/axllent/mailpit@v1.33.1)
fi
smtp_port="$(free_port)" mail_port="$(free_port)"
"$mailpit" --listen "127.0.0.1:$mail_port" --smtp "127.0.0.1:$smtp_port" --disable-version-check --quiet >"$art/mailpit.log" 2>&1 &
mailpit_pid=$!
export SMTP_URL="smtp://127.0.0.1:$smtp_port" MAILPIT_API="http://127.0.0.1:$mail_port"

psql -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$db\"" >/dev/null
# Same server and credentials as the admin URL, another database name.
export DATABASE_URL
DATABASE_URL="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$admin_url" "$db")"
export APP_ENV=test REDIS_URL="" NODE_ID=e2e JWT_SECRET="e2e-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export HUBD_BIN="$bin/hubd" HUBD_PIDFILE="$pidfile" ARTIFACTS="$art"
HTTP_PORT="$(free_port)"
export HTTP_PORT

"$bin/hubd" migrate >"$art/migrate.log" 2>&1 || { cat "$art/migrate.log"; exit 1; }
"$bin/hubd" seed >"$art/seed.log" 2>&1 || { cat "$art/seed.log"; exit 1; }

echo "e2e: running the browser test against 127.0.0.1:$HTTP_PORT"
(cd "$here" && node e2e.mjs)

if [[ "${UPDATE_SCREENSHOTS:-}" == 1 ]]; then
  cp "$art/student.png" "$here/screenshot-student.png"
  cp "$art/instructor.png" "$here/screenshot-instructor.png"
  cp "$art/booking-review.png" "$here/screenshot-confirm.png"
  cp "$art/booking-phone.png" "$here/screenshot-phone.png"
  cp "$art/find-didyoumean-phone.png" "$here/screenshot-search.png"
  echo "e2e: README screenshots updated"
fi
