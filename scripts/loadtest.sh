#!/usr/bin/env bash
# Load test of GET /api/availability against the release binary on Postgres (+ Redis):
# one user with 10,000 busy events in a 92-day window, wrk with 16 connections on loopback.
#
#   bash scripts/loadtest.sh            # needs Postgres and Redis on 127.0.0.1, and wrk (apt-get install wrk)
#   BIN=/tmp/freeslot-old bash scripts/loadtest.sh   # a binary built before (A/B against an older commit)
#
# Everything it sends goes to 127.0.0.1; the run is bounded (DURATION, default 20 s) and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=freeslot_loadtest
PORT=${PORT:-18090}
DURATION=${DURATION:-20s}
EVENTS=${EVENTS:-10000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/freeslot-target}"
if [ -z "${BIN:-}" ]; then
  BIN="$CARGO_TARGET_DIR/release/freeslot"
  cargo build --release --bin freeslot
fi
psql "$PG/test" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null

export DATABASE_URL="$PG/$DB" REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} JOB_QUEUE="loadtest-$$"
export JWT_SECRET=loadtest-secret-loadtest-secret-0123456789 TOKEN_ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export BIND_ADDR=127.0.0.1:$PORT RUST_LOG=warn
"$BIN" serve > /tmp/freeslot-loadtest.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$PG/test" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
TOKEN=$(curl -sf -X POST "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"load@example.com","password":"correct horse battery","name":"Load","timezone":"Europe/Berlin"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# The first manual event creates the user's own calendar (its id is the user's id).
USER_ID=$(curl -sf -X POST "$BASE/api/events" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"title":"first","start":"2027-01-04T08:00:00Z","end":"2027-01-04T08:30:00Z"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["calendar_id"])')
# EVENTS busy events spread evenly over the 92 days from 2027-01-04 (every 13 minutes for 10,000), 5 or 10
# minutes long, so that free time and slots remain between them.
psql "$DATABASE_URL" -qAt >/dev/null <<SQL
INSERT INTO events (id, user_id, calendar_id, provider, provider_event_id, title, start_at, end_at, range_end_at, status, busy, all_day)
SELECT gen_random_uuid(), '$USER_ID', '$USER_ID', 'local', 'seed-' || g, 'Seeded ' || g,
       ts, ts + interval '5 minutes' * (1 + g % 2), ts + interval '5 minutes' * (1 + g % 2), 'confirmed', true, false
FROM (SELECT g, timestamptz '2027-01-04 00:00:00+00' + g * (interval '92 days' / $EVENTS) AS ts
      FROM generate_series(1, $EVENTS) g) s;
-- Rows written behind the api's back must bump the version, as every writer does.
UPDATE users SET events_version = events_version + 1 WHERE id = '$USER_ID';
ANALYZE events;
SQL

URL="$BASE/api/availability?start=2027-01-04T00:00:00Z&end=2027-04-06T00:00:00Z&duration=30"
echo "one request:"; curl -sf -o /dev/null -w '  %{http_code} in %{time_total}s, %{size_download} bytes\n' -H "authorization: Bearer $TOKEN" "$URL"
wrk -t2 -c16 -d"$DURATION" --latency -H "authorization: Bearer $TOKEN" "$URL"
