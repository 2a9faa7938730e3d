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
