# Shared by stack.sh, unstack.sh and run-tests.sh. Sourced, not run.

STRATUS_REPO=${STRATUS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STRATUS_VENV=${STRATUS_VENV:-/opt/stratus/venv}
STRATUS_ETC=/etc/stratus
STRATUS_STATE=/var/lib/stratus
STRATUS_LOG_DIR=/var/log/stratus
STRATUS_RUN_DIR=/run/stratus
export STRATUS_LOG_DIR STRATUS_RUN_DIR

_step_started=0
step() {  # step "description": prints the previous step's duration and starts a new one
    step_done
    _step_started=$(date +%s.%N)
    printf '==> %s\n' "$*"
}
step_done() {
    if [ "$_step_started" != 0 ]; then
        printf '    done in %.1fs\n' "$(echo "$(date +%s.%N) - $_step_started" | bc)"
        _step_started=0
    fi
}
die() { echo "ERROR: $*" >&2; exit 1; }

have_systemd() { [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; }

apt_install() {  # installs only the packages that are missing
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "    installing: ${missing[*]}"
        if [ ! -f /var/lib/apt/periodic/stratus-updated ] || \
           [ -n "$(find /var/lib/apt/lists -maxdepth 0 -mmin +720 2>/dev/null)" ]; then
            apt-get update -qq
            mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/stratus-updated
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" > /dev/null
    fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() {  # host port seconds what
    local deadline=$(( $(date +%s) + $3 ))
    until port_open "$1" "$2"; do
        [ "$(date +%s)" -lt "$deadline" ] || die "$4 did not open $1:$2 within $3s"
        sleep 0.2
    done
}

# The daemons of the all-in-one cloud: name|command. systemd/<name>.service runs the same.
stratus_daemons() {
    local bin=$STRATUS_VENV/bin conf=$STRATUS_ETC/stratus.conf
    echo "stratus-api|$bin/stratus-api --config-file $conf"
    echo "stratus-scheduler|$bin/stratus-scheduler --config-file $conf"
    echo "stratus-conductor|$bin/stratus-conductor --config-file $conf"
    # Object storage: four storage nodes (one disk each) with their background daemons.
    local n kind
    for n in 1 2 3 4; do
        for kind in server replicator auditor updater expirer; do
            echo "stratus-object-$kind@$n|$bin/stratus-object-$kind --config-file $STRATUS_ETC/object-server-$n.conf"
        done
    done
    echo "stratus-object-proxy|$bin/stratus-object-proxy --config-file $STRATUS_ETC/object-proxy.conf"
    echo "stratus-console-proxy|$bin/stratus-console-proxy --config-file $conf"
    echo "stratus-compute-agent|$bin/stratus-compute-agent --config-file $conf"
    local agent
    for agent in ovs dhcp l3 metadata; do
        echo "stratus-$agent-agent|$bin/stratus-$agent-agent --config-file $conf"
    done
    echo "stratus-volume-agent|$bin/stratus-volume-agent --config-file $conf"
}

start_libvirt() {  # libvirtd (and virtlogd, which keeps the guests' console logs)
    if ! virsh -c qemu:///system version > /dev/null 2>&1; then
        if have_systemd; then
            systemctl start virtlogd libvirtd
        else
            pgrep -x virtlogd > /dev/null || virtlogd -d
            pgrep -x libvirtd > /dev/null || libvirtd -d
        fi
    fi
    local _
    for _ in $(seq 1 100); do
        virsh -c qemu:///system version > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "libvirtd does not answer on qemu:///system"
}

probe_virt_type() {  # image: prints kvm when a KVM guest really boots here, else qemu
    # /dev/kvm can exist and still hang every stock guest kernel (PVM hosts, PLATFORM.md),
    # so boot the guest image for real and look for its kernel's first lines.
    local image=$1 log overlay
    if [ ! -w /dev/kvm ]; then echo qemu; return; fi
    log=$(mktemp) overlay=$(mktemp --suffix=.qcow2)
    qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$overlay"
    timeout 20 qemu-system-x86_64 -enable-kvm -m 128 -display none -no-reboot \
        -serial "file:$log" -drive "file=$overlay,if=virtio" -nic none > /dev/null 2>&1 || true
    if grep -aq "Run /init\|stratus-guest ready" "$log"; then echo kvm; else echo qemu; fi
    rm -f "$log" "$overlay"
}

ensure_conf() {  # file section "key = value"...: adds the section and missing keys only
    local file=$1 section=$2 line key
    shift 2
    grep -q "^\[$section\]" "$file" || printf '\n[%s]\n' "$section" >> "$file"
    for line in "$@"; do
        key=${line%% =*}
        # Only keys the operator has not set already in that section are added.
        if ! awk -v s="[$section]" -v k="$key" '
                $0 == s {in_s=1; next} /^\[/ {in_s=0}
                in_s && $1 == k {found=1} END {exit !found}' "$file"; then
            sed -i "/^\[$section\]/a $line" "$file"
        fi
    done
}

start_daemon() {  # name command...
    local name=$1; shift
    if have_systemd; then
        systemctl restart "$name"
        return
    fi
    stop_daemon "$name"
    setsid "$STRATUS_REPO/tools/lib/supervise.sh" "$name" "$@" > /dev/null 2>&1 < /dev/null &
}

stop_daemon() {  # name
    local name=$1 pidfile=$STRATUS_RUN_DIR/$1.pid pid
    if have_systemd; then
        systemctl stop "$name" 2>/dev/null || true
        return
    fi
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile" "$STRATUS_RUN_DIR/$name.child.pid"
}
