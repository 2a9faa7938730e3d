"""Real guests for volume tests and benchmarks, booted by the compute agent's libvirt
driver, with a user-data watcher that reports every disk hot-plugged as /dev/vdb.

The watcher runs in the background from user-data (before the ready line) and, each
time /dev/vdb appears, prints ``VOLTEST <n> sectors=<size>`` and the first line of the
disk, then runs the action its instance was given (write a marker, or time dd), then
waits for the disk to go away and starts over. Run under
``flock /tmp/stratus-vm.lock`` (QEMU guests are shared-machine heavy).
"""

from __future__ import annotations

import time
import uuid

from agents.compute import libvirt_disk
from agents.compute.model import Flavor, ImageRef, Instance

READY = "stratus-guest ready: instance-id={uuid}"

WATCHER = """#!/bin/sh
(
n=0
while :; do
    while [ ! -b /dev/vdb ]; do sleep 0.2; done
    n=$((n+1))
    first=$(dd if=/dev/vdb bs=512 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9-')
    echo "VOLTEST $n sectors=$(cat /sys/block/vdb/size) first=$first"
    {action}
    while [ -b /dev/vdb ]; do sleep 0.2; done
    echo "VOLTEST $n gone"
done
) &
"""

WRITE_MARKER = ("printf '{marker}\\n' >/tmp/marker; "
                "dd if=/tmp/marker of=/dev/vdb bs=512 count=1 conv=sync,fsync 2>/dev/null; "
                "echo \"VOLTEST $n wrote {marker}\"")

# Sequential throughput with /proc/uptime (centiseconds); the page cache is dropped
# before reading so the read goes to the disk.
DD_BENCH = ("t0=$(cut -d' ' -f1 /proc/uptime); "
            "dd if=/dev/zero of=/dev/vdb bs=1M count={mb} conv=fsync 2>/dev/null; "
            "t1=$(cut -d' ' -f1 /proc/uptime); sync; echo 3 >/proc/sys/vm/drop_caches; "
            "dd if=/dev/vdb of=/dev/null bs=1M count={mb} 2>/dev/null; "
            "t2=$(cut -d' ' -f1 /proc/uptime); "
            "echo \"VOLTEST $n dd mb={mb} write_s=$t0,$t1 read_s=$t1,$t2\"")


def instance(image: ImageRef, action: str = "", name: str = "voltest") -> Instance:
    return Instance(
        uuid=str(uuid.uuid4()), name=name, project_id="5a8c2b6e0a5b4f7c9a2e1d3c4b5a6978",
        user_id="0a1b2c3d", flavor=Flavor("m1.nano", 128, 1, 1), image=image,
        availability_zone="nova", config_drive=True, hostname=name,
        user_data=WATCHER.format(action=action).encode())


def wait_console(driver, instance_uuid: str, text: str, count: int = 1,
                 timeout: float = 120) -> str:
    """Wait until text appears count times on the guest's console; return the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = driver.get_console_output(instance_uuid, max_bytes=4 << 20)
        if log.count(text) >= count:
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} seen {log.count(text)} times, not {count}, "
                                 f"within {timeout} s; console tail:\n{log[-3000:]}")
        time.sleep(0.05)


def attach(conn, domain_name: str, connection_info: dict, dev: str = "vdb") -> str:
    """Hot-plug the volume (CHAP secret first); returns the disk XML."""
    import libvirt
    libvirt_disk.ensure_secret(conn, connection_info)
    xml = libvirt_disk.disk_xml(connection_info, dev)
    conn.lookupByName(domain_name).attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    return xml


def detach(conn, domain_name: str, xml: str, timeout: float = 60) -> None:
    """Hot-unplug the disk and wait until the guest has let it go."""
    import libvirt
    dom = conn.lookupByName(domain_name)
    dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    deadline = time.monotonic() + timeout
    while "protocol='iscsi'" in dom.XMLDesc(0):
        if time.monotonic() > deadline:
            raise AssertionError(f"the guest did not release the disk within {timeout} s")
        time.sleep(0.05)
