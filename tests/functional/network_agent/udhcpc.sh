#!/bin/sh
# busybox udhcpc script for fake VMs: apply the lease (address, option 121 routes or the
# router, MTU) and print it as LEASE key=value lines for the test to read.
case "$1" in
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/$mask" dev "$interface"
        [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
        if [ -n "$staticroutes" ]; then
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                ip route replace "$1" via "$2" dev "$interface"
                shift 2
            done
        elif [ -n "$router" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        echo "LEASE ip=$ip"
        echo "LEASE mask=$mask"
        echo "LEASE router=$router"
        echo "LEASE staticroutes=$staticroutes"
        echo "LEASE dns=$dns"
        echo "LEASE mtu=$mtu"
        echo "LEASE hostname=$hostname"
        ;;
esac
exit 0
