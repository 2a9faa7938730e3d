#!/usr/bin/env bash
# Bring up the all-in-one Stratus cloud on this Debian 12 host (run as root).
#
# Safe to run again: it installs only what is missing, keeps existing configuration,
# passwords and data, upgrades the schema, and restarts every daemon on the current code.
# Environment: HOST_IP (address in the catalog; default: this host's first address),
# ADMIN_PASSWORD / DEMO_PASSWORD (default: generated once, kept in /etc/stratus).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run as root (sudo tools/stack.sh)"
started=$(date +%s)

step "Debian packages"
apt_install python3 python3-venv python3-dev build-essential bc curl rabbitmq-server \
    qemu-utils busybox-static linux-image-cloud-amd64 syslinux syslinux-common extlinux \
    mtools dosfstools fdisk cpio pkg-config libvirt-dev libvirt-daemon-system \
    libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-block-extra xorriso \
    novnc openvswitch-switch dnsmasq-base iptables ethtool iproute2 tgt

step "Python virtualenv at $STRATUS_VENV"
if [ ! -x "$STRATUS_VENV/bin/python" ]; then
    mkdir -p "$(dirname "$STRATUS_VENV")"
    /usr/bin/python3 -m venv "$STRATUS_VENV"
    "$STRATUS_VENV/bin/pip" install -q --upgrade pip
fi
"$STRATUS_VENV/bin/pip" install -q -e "$STRATUS_REPO" python-openstackclient python-swiftclient
for tool in openstack swift; do
    [ -e "/usr/local/bin/$tool" ] || ln -s "$STRATUS_VENV/bin/$tool" "/usr/local/bin/$tool"
done

step "Guest image stratus-tiny"
GUEST_IMAGE=$STRATUS_STATE/guest/stratus-tiny.qcow2
[ -f "$GUEST_IMAGE" ] || STRATUS_NO_APT=1 "$STRATUS_REPO/tools/build-guest-image.sh" "$GUEST_IMAGE"

step "libvirt"
start_libvirt

step "Configuration in $STRATUS_ETC"
mkdir -p "$STRATUS_ETC" "$STRATUS_STATE" "$STRATUS_LOG_DIR" "$STRATUS_RUN_DIR"
chmod 0750 "$STRATUS_ETC"
HOST_IP=${HOST_IP:-$(hostname -I 2>/dev/null | awk '{print $1}')}
HOST_IP=${HOST_IP:-127.0.0.1}
secret() {  # file: a password generated once and kept
    [ -s "$1" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$1")
    cat "$1"
}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-$(secret "$STRATUS_ETC/admin-password")}
DEMO_PASSWORD=${DEMO_PASSWORD:-$(secret "$STRATUS_ETC/demo-password")}
SERVICE_PASSWORD=$(secret "$STRATUS_ETC/service-password")
METADATA_SECRET=$(secret "$STRATUS_ETC/metadata-secret")
PUBLIC_URL="http://$HOST_IP:8770"
PUBLIC_CIDR=172.24.4.0/24
PUBLIC_GATEWAY=172.24.4.1
if [ ! -f "$STRATUS_ETC/stratus.conf" ]; then
    cat > "$STRATUS_ETC/stratus.conf" <<CONF
# Written by tools/stack.sh; every option is described in etc/*.conf.sample.
[DEFAULT]
state_path = $STRATUS_STATE

[logging]
log_dir = $STRATUS_LOG_DIR

[messaging]
transport_url = rabbit://guest:guest@127.0.0.1:5672/

[database]
connection = sqlite:///$STRATUS_STATE/stratus.sqlite

[api]
public_endpoint = $PUBLIC_URL
workers = 2

[fernet_tokens]
key_repository = $STRATUS_ETC/fernet-keys
CONF
fi
sed -i "s|^public_endpoint = .*|public_endpoint = $PUBLIC_URL|" "$STRATUS_ETC/stratus.conf"
# Sections added by later releases go into an existing file too (keys already set stay).
if ! grep -q "^virt_type" "$STRATUS_ETC/stratus.conf"; then
    VIRT_TYPE=${VIRT_TYPE:-$(probe_virt_type "$GUEST_IMAGE")}
    echo "    guests run with virt_type = $VIRT_TYPE"
fi
# The all-in-one host also runs the whole control plane: no memory overcommit there.
ensure_conf "$STRATUS_ETC/stratus.conf" compute "virt_type = ${VIRT_TYPE:-qemu}" \
    "instances_path = $STRATUS_STATE/instances" "ram_allocation_ratio = 1.0"
ensure_conf "$STRATUS_ETC/stratus.conf" service_auth \
    "auth_url = http://127.0.0.1:8770/identity/v3" "username = stratus" \
    "password = $SERVICE_PASSWORD" "project_name = service" "user_domain_id = default" \
    "project_domain_id = default"
ensure_conf "$STRATUS_ETC/stratus.conf" metadata "shared_secret = $METADATA_SECRET"
ensure_conf "$STRATUS_ETC/stratus.conf" volume "enabled_backends = file" \
    "file_path = $STRATUS_STATE/volumes" "target_ip_address = $HOST_IP"
ensure_conf "$STRATUS_ETC/stratus.conf" backup "driver = swift"
ensure_conf "$STRATUS_ETC/stratus.conf" console \
    "novncproxy_base_url = http://$HOST_IP:6080/vnc_lite.html" \
    "serialproxy_base_url = ws://$HOST_IP:6083/"
chmod 0640 "$STRATUS_ETC/stratus.conf"

step "Open vSwitch, the external bridge and NAT to the uplink"
"$STRATUS_VENV/bin/python" -m agents.network.ovs_setup
# br-ex carries the flat "public" network; the host is its gateway (172.24.4.1) and
# masquerades it to the uplink, so guests with floating IPs reach the host and beyond.
ovs-vsctl --may-exist add-br br-ex -- set Bridge br-ex datapath_type=netdev \
    fail_mode=secure protocols=OpenFlow10,OpenFlow13,OpenFlow14
ip addr show dev br-ex | grep -q "inet $PUBLIC_GATEWAY/" ||
    ip addr add "$PUBLIC_GATEWAY/24" dev br-ex
ip link set br-ex up
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -C POSTROUTING -s "$PUBLIC_CIDR" ! -d "$PUBLIC_CIDR" -j MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "$PUBLIC_CIDR" ! -d "$PUBLIC_CIDR" -j MASQUERADE

step "iSCSI target (tgtd) and volume directories"
if ! tgtadm --lld iscsi --mode target --op show > /dev/null 2>&1; then
    if have_systemd; then systemctl start tgt; else tgtd; fi
    for _ in $(seq 1 50); do
        tgtadm --lld iscsi --mode target --op show > /dev/null 2>&1 && break; sleep 0.2
    done
fi
install -d -m 0750 "$STRATUS_STATE/volumes" "$STRATUS_STATE/backups"

step "RabbitMQ"
if ! port_open 127.0.0.1 5672; then
    if have_systemd; then systemctl start rabbitmq-server; else rabbitmq-server -detached; fi
fi
wait_for_port 127.0.0.1 5672 60 RabbitMQ

step "Database schema, token keys, bootstrap"
MANAGE=("$STRATUS_VENV/bin/stratus-manage" --config-file "$STRATUS_ETC/stratus.conf")
"${MANAGE[@]}" db sync
"${MANAGE[@]}" fernet setup
"${MANAGE[@]}" bootstrap --admin-password "$ADMIN_PASSWORD" --demo-password "$DEMO_PASSWORD" \
    --service-password "$SERVICE_PASSWORD" \
    --public-url "$PUBLIC_URL" \
    --service "object-store:swift:http://$HOST_IP:8780/v1/AUTH_%(project_id)s" \
    > "$STRATUS_STATE/bootstrap.json"

step "Object storage: 4 disks in 2 zones, rings with 3 replicas"
PATH="$STRATUS_VENV/bin:$PATH" IDENTITY_URL="http://127.0.0.1:8770/identity" \
    "$STRATUS_REPO/tools/setup-object-storage.sh"

step "Daemons"
if have_systemd; then
    cp "$STRATUS_REPO"/systemd/*.service /etc/systemd/system/
    systemctl daemon-reload
    stratus_daemons | while IFS='|' read -r name _; do systemctl enable -q "$name"; done
fi
stratus_daemons | while IFS='|' read -r name cmd; do
    # shellcheck disable=SC2086  # cmd is our own fixed command line, split on purpose
    start_daemon "$name" $cmd
    echo "    started $name"
done
wait_for_port 127.0.0.1 8770 60 stratus-api
wait_for_port 127.0.0.1 8780 60 stratus-object-proxy

step "clouds.yaml"
mkdir -p /etc/openstack
(umask 077; cat > /etc/openstack/clouds.yaml <<YAML
# Written by tools/stack.sh.
clouds:
  stratus-admin:
    auth:
      auth_url: $PUBLIC_URL/identity/v3
      username: admin
      password: $ADMIN_PASSWORD
      project_name: admin
      user_domain_id: default
      project_domain_id: default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
  stratus-demo:
    auth:
      auth_url: $PUBLIC_URL/identity/v3
      username: demo
      password: $DEMO_PASSWORD
      project_name: demo
      user_domain_id: default
      project_domain_id: default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
YAML
)

step "Checking the cloud answers"
OS_CLOUD=stratus-admin openstack token issue -f value -c expires > /dev/null

step "Registering stratus-tiny in the image service"
if ! OS_CLOUD=stratus-admin openstack image show stratus-tiny -f value -c status 2>/dev/null |
        grep -q active; then
    OS_CLOUD=stratus-admin openstack image delete stratus-tiny 2>/dev/null || true
    OS_CLOUD=stratus-admin openstack image create --public --disk-format qcow2 \
        --container-format bare --file "$GUEST_IMAGE" stratus-tiny -f value -c id > /dev/null
fi
step "Flavors m1.nano, m1.tiny, m1.small"
# m1.nano has 128 MiB, not CirrOS's 64: the Debian cloud kernel needs 67.5 MiB of RAM
# just to decompress itself (bzImage init_size 51.5 MiB, loaded at 16 MiB).
for spec in "m1.nano 128 1 1" "m1.tiny 512 1 1" "m1.small 2048 20 1"; do
    read -r flavor ram disk vcpus <<< "$spec"
    have=$(OS_CLOUD=stratus-admin openstack flavor show "$flavor" -f value -c ram 2>/dev/null || true)
    [ "$have" = "$ram" ] && continue
    [ -n "$have" ] && OS_CLOUD=stratus-admin openstack flavor delete "$flavor"
    OS_CLOUD=stratus-admin openstack flavor create --public --ram "$ram" --disk "$disk" \
        --vcpus "$vcpus" "$flavor" > /dev/null
done

step "Networks: public (external), private for demo, router1"
ADMIN=(env OS_CLOUD=stratus-admin openstack)
DEMO=(env OS_CLOUD=stratus-demo openstack)
"${ADMIN[@]}" network show public > /dev/null 2>&1 ||
    "${ADMIN[@]}" network create --external --provider-network-type flat \
        --provider-physical-network public public > /dev/null
"${ADMIN[@]}" subnet show public-subnet > /dev/null 2>&1 ||
    "${ADMIN[@]}" subnet create --network public --subnet-range "$PUBLIC_CIDR" --no-dhcp \
        --gateway "$PUBLIC_GATEWAY" public-subnet > /dev/null
"${DEMO[@]}" network show private > /dev/null 2>&1 ||
    "${DEMO[@]}" network create private > /dev/null
"${DEMO[@]}" subnet show private-subnet > /dev/null 2>&1 ||
    "${DEMO[@]}" subnet create --network private --subnet-range 10.0.0.0/24 \
        --dns-nameserver "$PUBLIC_GATEWAY" private-subnet > /dev/null
if ! "${DEMO[@]}" router show router1 > /dev/null 2>&1; then
    "${DEMO[@]}" router create --external-gateway public router1 > /dev/null
    "${DEMO[@]}" router add subnet router1 private-subnet
fi

step "Waiting for the compute host to report"
for _ in $(seq 1 60); do
    [ -n "$(OS_CLOUD=stratus-admin openstack hypervisor list -f value -c ID 2>/dev/null)" ] && break
    sleep 1
done
[ -n "$(OS_CLOUD=stratus-admin openstack hypervisor list -f value -c ID 2>/dev/null)" ] ||
    die "the compute agent did not report this host; see $STRATUS_LOG_DIR/stratus-compute-agent.log"
step_done

cat <<DONE

Stratus is up ($(( $(date +%s) - started ))s). API: $PUBLIC_URL   logs: $STRATUS_LOG_DIR
  export OS_CLOUD=stratus-admin      # or stratus-demo (project demo, role member)
  openstack catalog list
  openstack image list               # stratus-tiny: the test guest (see README)
  openstack flavor list              # m1.nano (128 MiB), m1.tiny, m1.small
  openstack server create --image stratus-tiny --flavor m1.nano --network private --wait vm1
  openstack console log show vm1
  openstack volume create --size 1 vol1 && openstack server add volume vm1 vol1
  openstack container create c1 && openstack object create c1 FILE
Credentials are in /etc/openstack/clouds.yaml. Stop with tools/unstack.sh (--purge to
also remove all state).
DONE
