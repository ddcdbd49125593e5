#!/usr/bin/env bash
# Memory of 1,000 idle notification streams on one api process: the release binary on Postgres +
# Redis, one user, STREAMS (default 1000) connections to GET /api/notifications/stream held open by
# a small Python client; VmRSS of the server before and after, and /health still answering.
#
#   bash scripts/idle-streams.sh        # needs Postgres and Redis on 127.0.0.1
#
# Everything goes to 127.0.0.1; it cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=freeslot_streams
PORT=${PORT:-18091}
STREAMS=${STREAMS:-1000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/freeslot-target}"
if [ -z "${BIN:-}" ]; then
  BIN="$CARGO_TARGET_DIR/release/freeslot"
  cargo build --release --bin freeslot
fi
ulimit -n 8192
psql "$PG/test" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$PG/$DB" REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} JOB_QUEUE="streams-$$"
export JWT_SECRET=streams-secret-streams-secret-0123456789 TOKEN_ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
export BIND_ADDR=127.0.0.1:$PORT RUST_LOG=warn
"$BIN" api > /tmp/freeslot-streams.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$PG/test" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"streams@example.com","password":"correct horse battery","name":"S","timezone":"UTC"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
BEFORE=$(rss)
python3 - "$PORT" "$TOKEN" "$STREAMS" "$SERVER" <<'PY'
import socket, sys, time
port, token, n, server = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
request = (f"GET /api/notifications/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request)
    socks.append(s)
# Every stream has answered (status line and the opening comment) before memory is read.
deadline = time.time() + 120
for s in socks:
    s.settimeout(max(1, deadline - time.time()))
    got = b""
    while b"connected" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("a stream closed")
        got += chunk
    assert got.startswith(b"HTTP/1.1 200"), got[:80]
time.sleep(1)
rss = [l for l in open(f"/proc/{server}/status") if l.startswith("VmRSS")][0].split()[1]
print(f"{n} streams open; server VmRSS {rss} kB", flush=True)
with open("/tmp/freeslot-streams.rss", "w") as f:
    f.write(rss)
import urllib.request
t = time.time()
urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).read()
print(f"/health with {n} streams open: {1000 * (time.time() - t):.1f} ms")
for s in socks:
    s.close()
PY
AFTER=$(cat /tmp/freeslot-streams.rss)
echo "VmRSS idle: ${BEFORE} kB; with $STREAMS streams: ${AFTER} kB; per stream: $(( (AFTER - BEFORE) / STREAMS )) kB"
