#!/usr/bin/env bash
# The suite with the machine's clock at another date, as issue "House in order" asks:
#   scripts/faketime-suite.sh "2030-01-01 00:00:00" [nextest args…]
# libfaketime shifts the test processes' clock (not cargo's or rustc's, which it hangs) and a
# throwaway Postgres and Redis started here on other ports, so the database's now() agrees with
# the app's as it would on a machine whose clock really reads that date. Chromium's zygote does
# not survive libfaketime, so the browser test's Chromium keeps the real clock (tests/src/browser.rs).
# Needs Debian's faketime package (installed here when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
at="${1:?usage: scripts/faketime-suite.sh 'YYYY-MM-DD HH:MM:SS' [nextest args]}"
shift

if ! command -v faketime >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi
export FAKETIME_DONT_FAKE_MONOTONIC=1
fake() { faketime -f "@$at" "$@"; }

work="$(mktemp -d)"
chown postgres "$work"
pg_bin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n1)/bin"
cleanup() {
  su postgres -c "$pg_bin/pg_ctl -D $work/pg -m immediate stop" >/dev/null 2>&1 || true
  redis-cli -p 56379 shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
su postgres -c "$pg_bin/initdb -D $work/pg -A trust -U postgres" >/dev/null
su postgres -c "FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '@$at' $pg_bin/pg_ctl -D $work/pg -o '-p 55432 -k $work -c listen_addresses=127.0.0.1' -w start" >/dev/null
su postgres -c "$pg_bin/createdb -h 127.0.0.1 -p 55432 -U postgres test"
fake redis-server --daemonize yes --bind 127.0.0.1 --port 56379 --save "" --appendonly no >/dev/null

runner="$work/runner.sh"
cat >"$runner" <<RUNNER
#!/bin/sh
exec faketime -f "@$at" "\$@"
RUNNER
chmod +x "$runner"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$runner"
export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/test
export TEST_REDIS_URL=redis://127.0.0.1:56379
scripts/test.sh "$@"
