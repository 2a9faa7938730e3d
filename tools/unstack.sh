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
    step "Removing guests, networks and iSCSI targets"
    # Guests, dnsmasq and namespaces outlive the daemons on purpose (a restart must not
    # cut running workloads); a purge removes them with everything else.
    for dom in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^instance-'); do
        virsh -c qemu:///system destroy "$dom" > /dev/null 2>&1 || true
        virsh -c qemu:///system undefine --managed-save --nvram "$dom" > /dev/null 2>&1 || true
    done
    for pidfile in "$STRATUS_STATE"/dhcp/*/pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^(qdhcp|qrouter)-'); do
        ip netns delete "$ns" || true
    done
    for bridge in br-int br-tun br-ex; do
        ovs-vsctl --if-exists del-br "$bridge" 2>/dev/null || true
    done
    iptables -t nat -D POSTROUTING -s 172.24.4.0/24 ! -d 172.24.4.0/24 -j MASQUERADE \
        2>/dev/null || true
    for tid in $(tgtadm --lld iscsi --mode target --op show 2>/dev/null |
                 sed -n 's/^Target \([0-9]*\): iqn.2026-12.org.stratus:.*/\1/p'); do
        tgtadm --lld iscsi --mode target --op delete --force --tid "$tid" || true
    done
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
