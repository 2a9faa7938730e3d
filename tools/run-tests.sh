#!/usr/bin/env bash
# Run the whole Stratus test suite on a fresh Debian 12 machine (as root).
#
# Installs what the tests need, starts PostgreSQL and RabbitMQ, brings up the all-in-one
# cloud with tools/stack.sh (the end-to-end tests drive it), then runs tox:
# lint, unit, functional and e2e. Extra arguments go to tox (e.g. -e unit).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run as root (sudo tools/run-tests.sh)"
started=$(date +%s)

step "Debian packages for the tests"
apt_install postgresql rabbitmq-server python3-venv systemd pkg-config libvirt-dev \
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils busybox-static linux-image-cloud-amd64 \
    syslinux syslinux-common extlinux mtools dosfstools fdisk xorriso genisoimage cpio \
    iputils-ping netcat-openbsd

step "PostgreSQL"
read -r pg_version pg_cluster _ < <(pg_lsclusters -h | head -n 1)
pg_ctlcluster "$pg_version" "$pg_cluster" start 2>/dev/null || true
wait_for_port 127.0.0.1 5432 60 PostgreSQL
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='stratus'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE ROLE stratus LOGIN PASSWORD 'stratus' CREATEDB\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='stratus_test'\"" |
    grep -q 1 || su postgres -c "createdb -O stratus stratus_test"
step "libvirt"
start_libvirt

export STRATUS_TEST_POSTGRES_URL=postgresql+psycopg2://stratus:stratus@127.0.0.1/stratus_test

step "All-in-one cloud (tools/stack.sh)"
step_done
"$STRATUS_REPO/tools/stack.sh"

step "RabbitMQ vhost for the tests"
# The tests' RPC never shares queues with the cloud stack.sh runs beside them.
rabbitmqctl -q add_vhost stratus-test 2>/dev/null || true
rabbitmqctl -q set_permissions -p stratus-test guest '.*' '.*' '.*'
export STRATUS_TEST_TRANSPORT_URL=rabbit://guest:guest@127.0.0.1:5672/stratus-test

step "tox"
TOOLS_VENV=/opt/stratus/tools-venv
[ -x "$TOOLS_VENV/bin/tox" ] || { /usr/bin/python3 -m venv "$TOOLS_VENV" &&
    "$TOOLS_VENV/bin/pip" install -q tox; }
cd "$STRATUS_REPO"
export OS_CLIENT_CONFIG_FILE=/etc/openstack/clouds.yaml
# The guest image tests reuse the image stack.sh built, when there is one.
[ -f "$STRATUS_STATE/guest/stratus-tiny.qcow2" ] &&
    export STRATUS_GUEST_IMAGE="$STRATUS_STATE/guest/stratus-tiny.qcow2"
status=0
if [ $# -eq 0 ]; then
    set -- -e lint,unit,functional,e2e
fi
"$TOOLS_VENV/bin/tox" "$@" || status=$?
step_done
echo "run-tests.sh finished in $(( $(date +%s) - started ))s with status $status"
exit "$status"
