#!/usr/bin/env bash
# The suite with the machine's clock at another date, as issue "House in order" asks:
#   scripts/faketime-suite.sh "2030-01-01 00:00:00" [nextest args…]
# libfaketime shifts the test processes' clock (not cargo's or rustc's, which it hangs) and a
# throwaway Postgres started here on another port, so the database's now() (which the
# database-backed job queue compares with the times the app writes) agrees with the app's, as it
# would on a machine whose clock really reads that date. Redis stays the real one (libfaketime
# clashes with its allocator); the queue gives it durations, not dates. Chromium's zygote does
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

work="$(mktemp -d)"
chown postgres "$work"
pg_bin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -n1)/bin"
cleanup() {
  su postgres -c "$pg_bin/pg_ctl -D $work/pg -m immediate stop" >/dev/null 2>&1 || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT
su postgres -c "$pg_bin/initdb -D $work/pg -A trust -U postgres" >/dev/null
# The server itself under faketime (pg_ctl's own wait loop does not survive it).
su postgres -c "FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '@$at' $pg_bin/postgres -D $work/pg -p 55432 -k $work -c listen_addresses=127.0.0.1 -c max_connections=300" >"$work/pg.log" 2>&1 &
for _ in $(seq 1 100); do
  pg_isready -q -h 127.0.0.1 -p 55432 && break
  sleep 0.2
done
su postgres -c "$pg_bin/createdb -h 127.0.0.1 -p 55432 -U postgres test"

runner="$work/runner.sh"
cat >"$runner" <<RUNNER
#!/bin/sh
exec faketime -f "@$at" "\$@"
RUNNER
chmod +x "$runner"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$runner"
export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/test
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
scripts/test.sh "$@"
