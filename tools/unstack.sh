#!/usr/bin/env bash
# Stop every Stratus daemon. With --purge, also remove its configuration, data and logs
# (the virtualenv and Debian packages stay, so stack.sh is fast again).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run as root (sudo tools/unstack.sh)"
purge=0
[ "${1:-}" = --purge ] && purge=1

step "Stopping daemons"
stratus_daemons | tac | while IFS='|' read -r name _; do
    stop_daemon "$name"
    echo "    stopped $name"
done
if [ "$purge" = 1 ]; then
    step "Removing state"
    rm -rf "$STRATUS_STATE" "$STRATUS_ETC" "$STRATUS_LOG_DIR" "$STRATUS_RUN_DIR"
    rm -f /etc/openstack/clouds.yaml
    if have_systemd; then
        stratus_daemons | while IFS='|' read -r name _; do
            systemctl disable -q "$name" 2>/dev/null || true
            rm -f "/etc/systemd/system/$name.service"
        done
        systemctl daemon-reload
    fi
fi
step_done
echo "Stratus stopped."
