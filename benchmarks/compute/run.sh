#!/usr/bin/env bash
# Compute benchmark against the running all-in-one cloud (tools/stack.sh first).
#
# Boots BOOTS servers one after the other (API -> ACTIVE, by stage -> the guest's ready
# line -> deleted), then BURST at once, then loads the servers API with CONCURRENCY
# threads; then the scale runs: the scheduler with HOSTS registered hosts (a scratch
# database) and server list with LIST_SERVERS servers in the admin project.
# Results are appended as JSON lines to benchmarks/compute/results/<stamp>.jsonl.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${STRATUS_VENV:-/opt/stratus/venv}
mkdir -p "$HERE/results"
OUT=$HERE/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl
OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml} \
    "$VENV/bin/python" "$HERE/bench.py" --cloud "${OS_CLOUD:-stratus-demo}" \
    --boots "${BOOTS:-3}" --burst "${BURST:-8}" --requests "${REQUESTS:-300}" \
    --concurrency "${CONCURRENCY:-8}" | tee "$OUT"
"$VENV/bin/python" "$HERE/scale.py" scheduler --hosts "${HOSTS:-1000}" | tee -a "$OUT"
OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-/etc/openstack/clouds.yaml} \
    PATH="$VENV/bin:$PATH" "$VENV/bin/python" "$HERE/scale.py" list \
    --servers "${LIST_SERVERS:-1000}" | tee -a "$OUT"
echo "results: $OUT"
