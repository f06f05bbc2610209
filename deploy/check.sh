#!/usr/bin/env bash
# Checks deploy/ and docker-compose.yml with the real tools: promtool (Debian
# package `prometheus`), amtool and alertmanager (`prometheus-alertmanager`)
# and docker-compose (Debian package `docker-compose`, v1.29, which validates
# without a Docker engine); it also brings pgbouncer (Debian package), which
# http's PgBouncer test runs two nodes through. Installs them with apt-get
# when they are missing and we are root, then runs the deploy tests, which
# fail rather than skip once this script has made the tools a requirement.
#
#   deploy/check.sh                 install if needed, check everything
#   deploy/check.sh --install-only  just make sure the tools are there (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# pgbouncer: http's tests run two nodes through a real one (transaction pooling).
command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || need+=(pgbouncer)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deploy/check.sh: ${need[*]} missing; install with: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "==> installing ${need[*]} (Debian packages)"
  # Packages only: never start the daemons (Prometheus, PgBouncer) the packages ship.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ "${1:-}" == "--install-only" ]] && exit 0

echo "==> promtool"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
echo "==> amtool"
amtool check-config deploy/alertmanager/alertmanager.yml
echo "==> docker-compose config"
HUB_ENV_FILE=deploy/hub.env.example docker-compose -f docker-compose.yml config -q
echo "docker-compose.yml: valid"
echo "==> go test ./deploy"
DEPLOY_REQUIRE_TOOLS=1 go test -count=1 ./deploy
