#!/usr/bin/env bash
# Set up all-in-one object storage: 4 disks (directories), 4 storage-node configs,
# the proxy config and the account/container/object rings (3 replicas, 2 zones).
# Idempotent: run it again and nothing changes (rings and the hash salt are kept).
# It starts no daemon. Run as root with the Stratus venv's bin dir in PATH.
#
#   STATE_DIR   disks live in $STATE_DIR/disk1..4      (default /var/lib/stratus/object)
#   ETC_DIR     configs and rings/                     (default /etc/stratus)
#   NODE_HOST   address the storage nodes use          (default 127.0.0.1)
#   NODE_BASE_PORT  node N listens on NODE_BASE_PORT+N     (default 6200: 6201..6204)
#   PROXY_HOST  address the proxy listens on           (default 0.0.0.0)
#   PROXY_PORT  proxy port                             (default 8780)
#   IDENTITY_URL  identity API base                    (default http://127.0.0.1:8770/identity)
#   PART_POWER  2**PART_POWER partitions               (default 10)
#   PROXY_WORKERS proxy worker processes               (default: number of cores)
set -euo pipefail

STATE_DIR="${STATE_DIR:-/var/lib/stratus/object}"
ETC_DIR="${ETC_DIR:-/etc/stratus}"
RING_DIR="$ETC_DIR/rings"
NODE_HOST="${NODE_HOST:-127.0.0.1}"
PROXY_HOST="${PROXY_HOST:-0.0.0.0}"
PROXY_PORT="${PROXY_PORT:-8780}"
IDENTITY_URL="${IDENTITY_URL:-http://127.0.0.1:8770/identity}"
PART_POWER="${PART_POWER:-10}"
PROXY_WORKERS="${PROXY_WORKERS:-$(nproc)}"
REPLICAS=3
ZONES=(1 1 2 2)     # disk N is in zone ZONES[N-1]; ports 6201..6204
BASE_PORT="${NODE_BASE_PORT:-6200}"

say() { echo "[setup-object-storage] $*"; }
command -v stratus-manage >/dev/null || { echo "stratus-manage not in PATH" >&2; exit 1; }

install -d -m 0755 "$ETC_DIR" "$RING_DIR" "$STATE_DIR"
for n in 1 2 3 4; do install -d -m 0750 "$STATE_DIR/disk$n"; done

# The hash salt must never change once data exists: made once, then reused.
SALT_FILE="$STATE_DIR/hash_path_suffix"
if [ ! -s "$SALT_FILE" ]; then
    (umask 077; python3 -c 'import secrets; print(secrets.token_hex(16))' > "$SALT_FILE")
    say "generated the hash path salt in $SALT_FILE"
fi
SALT="$(cat "$SALT_FILE")"

write_conf() {  # path, content: only rewritten when different (keeps mtimes stable)
    local path=$1 content=$2
    if [ ! -f "$path" ] || [ "$(cat "$path")" != "$content" ]; then
        (umask 027; printf '%s\n' "$content" > "$path.tmp")
        mv "$path.tmp" "$path"
        say "wrote $path"
    fi
}

RING_SECTION="[ring]
ring_dir = $RING_DIR
hash_path_suffix = $SALT"

for n in 1 2 3 4; do
    write_conf "$ETC_DIR/object-server-$n.conf" "# storage node $n (written by tools/setup-object-storage.sh)
$RING_SECTION

[object_server]
bind_host = $NODE_HOST
bind_port = $((BASE_PORT + n))
devices = $STATE_DIR
device_names = disk$n
mount_check = false
workers = 1
threads = 64

[object_replicator]
interval = 30

[object_auditor]
interval = 300

[object_updater]
interval = 30

[object_expirer]
interval = 60"
done

write_conf "$ETC_DIR/object-proxy.conf" "# object storage proxy (written by tools/setup-object-storage.sh)
$RING_SECTION

[object_proxy]
bind_host = $PROXY_HOST
bind_port = $PROXY_PORT
workers = $PROXY_WORKERS
threads = 16
identity_url = $IDENTITY_URL
operator_roles = admin, member
reseller_admin_role = admin"

# Rings: built once; re-running never reshuffles existing data.
for kind in account container object; do
    builder="$RING_DIR/$kind.builder"
    if [ ! -f "$builder" ]; then
        stratus-manage ring create "$builder" "$PART_POWER" "$REPLICAS" 1
        for n in 1 2 3 4; do
            stratus-manage ring add "$builder" \
                "r1z${ZONES[$((n - 1))]}-$NODE_HOST:$((BASE_PORT + n))/disk$n" 100
        done
    fi
    if [ ! -f "$RING_DIR/$kind.ring.gz" ]; then
        stratus-manage ring rebalance "$builder" --seed 1
    fi
done
chmod 0644 "$RING_DIR"/*.ring.gz

say "ready: 4 nodes on $NODE_HOST:$((BASE_PORT + 1))-$((BASE_PORT + 4)), proxy on $PROXY_HOST:$PROXY_PORT"
say "start: stratus-object-server --config-file $ETC_DIR/object-server-N.conf (N=1..4),"
say "       stratus-object-{replicator,auditor,updater,expirer} --config-file $ETC_DIR/object-server-N.conf,"
say "       stratus-object-proxy --config-file $ETC_DIR/object-proxy.conf"
