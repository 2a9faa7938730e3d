#!/usr/bin/env bash
# Volume benchmarks: operation latency through the real agent and RabbitMQ, then
# sequential throughput inside a QEMU guest over iSCSI vs dd on the backing file.
#
#   PYTHON   a python with Stratus and libvirt-python (default: /opt/stratus/venv/bin/python)
#   COUNT    latency iterations (default 50)
#   MB       MiB the guest writes and reads (default 256)
#   RUNS     throughput runs (default 3; each boots one guest)
#   OUT_DIR  where results go (default benchmarks/volume/results)
#   CLOUD    the clouds.yaml cloud the API part runs as (default stratus-demo)
#   API_COUNT  API latency iterations (default 20)
#
# Needs root, tgtd (started when not running), RabbitMQ on 127.0.0.1 (or
# STRATUS_TEST_TRANSPORT_URL), libvirtd and the stratus-tiny image. Takes the shared VM
# lock for the guest part. Leaves no target, volume, guest or secret behind.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-/opt/stratus/venv/bin/python}"
OUT_DIR="${OUT_DIR:-$HERE/results}"
mkdir -p "$OUT_DIR"
cd "$REPO"

tgtadm --lld iscsi --mode target --op show >/dev/null 2>&1 || { tgtd; sleep 1; }

echo "== latency (${COUNT:-50} iterations, through RabbitMQ)"
"$PYTHON" benchmarks/volume/latency.py --count "${COUNT:-50}" --out "$OUT_DIR/latency.jsonl"

echo "== through the API: latency and in-guest throughput (${API_COUNT:-20} iterations)"
# Against the cloud in clouds.yaml (the all-in-one by default); skipped without one.
if "$PYTHON" -c "import openstack; openstack.connect(cloud='${CLOUD:-stratus-demo}').authorize()" \
        >/dev/null 2>&1; then
    flock /tmp/stratus-vm.lock "$PYTHON" benchmarks/volume/api_bench.py \
        --cloud "${CLOUD:-stratus-demo}" --count "${API_COUNT:-20}" --mb "${MB:-256}" \
        --out "$OUT_DIR/api.jsonl"
else
    echo "   no cloud answers as ${CLOUD:-stratus-demo}: skipped"
fi

echo "== throughput (${RUNS:-3} runs of ${MB:-256} MiB)"
for _ in $(seq "${RUNS:-3}"); do
    flock /tmp/stratus-vm.lock "$PYTHON" benchmarks/volume/throughput.py --mb "${MB:-256}" \
        --out "$OUT_DIR/throughput.jsonl"
done
