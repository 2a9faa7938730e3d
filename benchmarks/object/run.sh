#!/usr/bin/env bash
# Stratus object storage vs OpenStack Swift, side by side on this machine.
#
# Builds a private Stratus cluster (tools/setup-object-storage.sh: 4 disks, 4 nodes
# in zones 1,1,2,2, 3 replicas, a proxy) in a temp dir on free ports, with its
# replicator/auditor/updater/expirer running as Swift's daemons do, runs
# ../../../shared/bench/swift/bench.py against it, stops it, then does the same for
# the real Swift (shared/bench/swift/start.sh, 3 replicas, 4 disks; stop.sh after)
# and prints the ratios. Results: $OUT_DIR/{stratus,swift}.jsonl.
#
#   PYTHON      a python with Stratus installed (default: the one on PATH that can
#               import it; /opt/stratus/venv/bin/python is tried first)
#   BENCH_ARGS  extra bench.py arguments, e.g. "--small-count 500 --large-count 50"
#   OUT_DIR     where results go (default benchmarks/results/object-<time>)
#   SKIP_SWIFT=1  only measure Stratus
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED="${SHARED_DIR:-$(cd "$REPO/.." && pwd)/shared}"
[ -d "$SHARED/bench/swift" ] || SHARED=/work/shared
BENCH="$SHARED/bench/swift"
for candidate in "${PYTHON:-}" /opt/stratus/venv/bin/python python3; do
    if [ -n "$candidate" ] && "$candidate" -c "import controller.objectproxy, pyuwsgi" \
            2>/dev/null; then PYTHON="$candidate"; break; fi
done
"$PYTHON" -c "import controller.objectproxy" || { echo "no python with Stratus" >&2; exit 1; }
BIN="$(dirname "$PYTHON")"
OUT_DIR="${OUT_DIR:-$REPO/benchmarks/results/object-$(date +%Y%m%d-%H%M%S)}"
WORK="$(mktemp -d /var/tmp/stratus-objbench.XXXXXX)"
read -r ID_PORT PROXY_PORT NODE_BASE <<<"$("$PYTHON" - <<'PY'
import socket
def free(n=1):
    socks = [socket.socket() for _ in range(n)]
    for s in socks: s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks: s.close()
    return ports
a, b = free(2)
# four consecutive free ports for the nodes
for base in range(31200, 60000, 10):
    try:
        socks = []
        for p in range(base + 1, base + 5):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        for s in socks: s.close()
        print(a, b, base); break
    except OSError:
        for s in socks: s.close()
PY
)"
TOKEN="bench-$(date +%s)-$$"
read -r -a EXTRA <<<"${BENCH_ARGS:-}"
PIDS="$WORK/pids"
: > "$PIDS"
mkdir -p "$OUT_DIR"
say() { echo "[bench/object] $*"; }

starttime_of() {  # field 22 of /proc/PID/stat: identifies the process, not just the pid
    local s fields
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a fields <<<"${s##*) }"
    echo "${fields[19]}"
}
launch() {  # name cmd...  (own session: stopped as a group)
    local name=$1; shift
    setsid "$@" >> "$WORK/$name.log" 2>&1 < /dev/null &
    local pid=$!
    sleep 0.05
    echo "$pid $(starttime_of "$pid" || echo 0) $name" >> "$PIDS"
}
signal_ours() {  # signal: each recorded process group whose leader is still ours
    local pid st _name
    while read -r pid st _name; do
        if [ "$(starttime_of "$pid")" = "$st" ]; then
            kill "-$1" -- "-$pid" 2>/dev/null || true
        fi
    done < "$PIDS"
}
stop_ours() {
    signal_ours TERM
    sleep 2
    signal_ours KILL
    : > "$PIDS"
}
trap 'stop_ours; rm -rf "$WORK"' EXIT

say "building a Stratus cluster in $WORK (nodes on $((NODE_BASE + 1))-$((NODE_BASE + 4)), proxy on $PROXY_PORT)"
PATH="$BIN:$PATH" STATE_DIR="$WORK/state" ETC_DIR="$WORK/etc" NODE_BASE_PORT="$NODE_BASE" \
    PROXY_HOST=127.0.0.1 PROXY_PORT="$PROXY_PORT" \
    IDENTITY_URL="http://127.0.0.1:$ID_PORT/identity" \
    bash "$REPO/tools/setup-object-storage.sh" > "$WORK/setup.log"
launch identity "$PYTHON" "$HERE/stub_identity.py" --port "$ID_PORT" --token "$TOKEN" \
    --project bench
for n in 1 2 3 4; do
    launch "node$n" "$BIN/stratus-object-server" --config-file "$WORK/etc/object-server-$n.conf"
    for d in replicator auditor updater expirer; do
        launch "$d$n" "$BIN/stratus-object-$d" --config-file "$WORK/etc/object-server-$n.conf"
    done
done
launch proxy "$BIN/stratus-object-proxy" --config-file "$WORK/etc/object-proxy.conf"
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/info" 2>/dev/null && break
    sleep 0.2
done
STORAGE_URL="http://127.0.0.1:$PROXY_PORT/v1/AUTH_bench"
say "Stratus: $(grep -c . "$PIDS") processes; running bench.py"
python3 "$BENCH/bench.py" --storage-url "$STORAGE_URL" --token "$TOKEN" --label stratus \
    --json-out "$OUT_DIR/stratus.jsonl" --server-pids "$PIDS" "${EXTRA[@]}" \
    | tee "$OUT_DIR/stratus.txt" | tail -12
stop_ours

if [ "${SKIP_SWIFT:-0}" != 1 ]; then
    say "starting Swift (shared/bench/swift/start.sh)"
    "$BENCH/start.sh" | tail -2
    SWIFT_PIDS="${BENCH_STATE:-/var/tmp/stratus-bench/swift}/run/pids"
    python3 "$BENCH/bench.py" --auth-url http://127.0.0.1:18080/auth/v1.0 --user admin:admin \
        --key anchor --label swift --json-out "$OUT_DIR/swift.jsonl" \
        --server-pids "$SWIFT_PIDS" "${EXTRA[@]}" | tee "$OUT_DIR/swift.txt" | tail -12 || true
    "$BENCH/stop.sh" | tail -1
    python3 "$HERE/compare.py" "$OUT_DIR/stratus.jsonl" "$OUT_DIR/swift.jsonl" \
        | tee "$OUT_DIR/ratios.txt"
fi
say "results in $OUT_DIR"
