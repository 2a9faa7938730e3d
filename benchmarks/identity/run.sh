#!/usr/bin/env bash
# Identity benchmark: Stratus and the real Keystone side by side, same machine, same load.
#
# Starts a dedicated Stratus API (its own SQLite DB and keys under $WORK, bcrypt cost 12
# like Keystone, [api] workers = $WORKERS) and Keystone from ../shared/bench/keystone
# (default settings, then KS_CACHE=1), runs the shared bench.py against each, and prints
# the ratios. Results are appended as JSON lines to benchmarks/identity/results/.
#
# Environment: WORKERS (2), REQUESTS (300), CONCURRENCY (8),
# KS_DEFAULT_REQUESTS (60: uncached Keystone answers a few requests per second).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SHARED=${SHARED:-$(cd "$REPO/../shared" && pwd)}
BENCH=$SHARED/bench/keystone
VENV=${STRATUS_VENV:-/opt/stratus/venv}
WORKERS=${WORKERS:-2}
REQUESTS=${REQUESTS:-300}
CONCURRENCY=${CONCURRENCY:-8}
KS_DEFAULT_REQUESTS=${KS_DEFAULT_REQUESTS:-60}
PORT=${STRATUS_BENCH_PORT:-18790}
WORK=${WORK:-/var/tmp/stratus-bench/stratus-identity}
RESULTS=$HERE/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/$STAMP.jsonl
PY=${BENCH_PYTHON:-/var/tmp/stratus-bench/keystone/.venv/bin/python}
mkdir -p "$WORK" "$RESULTS"

stratus_pid=""
cleanup() {
    [ -n "$stratus_pid" ] && kill "$stratus_pid" 2>/dev/null || true
    "$BENCH/stop.sh" > /dev/null 2>&1 || true
}
trap cleanup EXIT

wait_url() {
    for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
    echo "timed out waiting for $1" >&2; return 1
}

echo "== Stratus identity ($WORKERS workers, bcrypt cost 12)"
cat > "$WORK/stratus.conf" <<CONF
[database]
connection = sqlite:///$WORK/stratus.sqlite
[fernet_tokens]
key_repository = $WORK/keys
[api]
bind_host = 127.0.0.1
bind_port = $PORT
workers = $WORKERS
public_endpoint = http://127.0.0.1:$PORT
[identity]
password_hash_rounds = 12
[messaging]
notification_driver = noop
[logging]
log_dir = $WORK/log
CONF
MANAGE=("$VENV/bin/stratus-manage" --config-file "$WORK/stratus.conf")
"${MANAGE[@]}" db sync > /dev/null
"${MANAGE[@]}" fernet setup > /dev/null
"${MANAGE[@]}" bootstrap --admin-password bench-admin --public-url "http://127.0.0.1:$PORT" > /dev/null
"$VENV/bin/stratus-api" --config-file "$WORK/stratus.conf" > "$WORK/api.out" 2>&1 &
stratus_pid=$!
wait_url "http://127.0.0.1:$PORT/identity/v3"
"$PY" "$BENCH/bench.py" --url "http://127.0.0.1:$PORT/identity/v3" --password bench-admin \
    --requests "$REQUESTS" --concurrency "$CONCURRENCY" --label stratus --out "$OUT" > /dev/null
stratus_rss=$(ps -o rss= --ppid "$stratus_pid" | awk '{s+=$1} END {print s}')
stratus_rss=$(( stratus_rss + $(ps -o rss= -p "$stratus_pid") ))
kill "$stratus_pid"; wait "$stratus_pid" 2>/dev/null || true; stratus_pid=""

for mode in default cached; do
    echo "== Keystone ($mode, $WORKERS workers)"
    cache=0; requests=$KS_DEFAULT_REQUESTS
    [ "$mode" = cached ] && { cache=1; requests=$REQUESTS; }
    KS_WORKERS=$WORKERS KS_CACHE=$cache "$BENCH/start.sh" > /dev/null 2>&1
    "$PY" "$BENCH/bench.py" --url http://127.0.0.1:15000/v3 --password anchor-admin \
        --requests "$requests" --concurrency "$CONCURRENCY" --label "keystone-$mode" \
        --out "$OUT" > /dev/null
    "$BENCH/stop.sh" > /dev/null 2>&1
done

echo "== Results ($OUT); Stratus API RSS: $(( stratus_rss / 1024 )) MiB for $WORKERS workers"
python3 "$HERE/ratios.py" "$OUT"
