"""Ports on a real QEMU/TCG guest through the libvirt driver, on a private OVS bridge:
the guest starts paused until its tap is on the bridge with its port id (the stand-in
for the OVS agent's wiring), then NICs are hot-plugged and hot-unplugged live with the
same interface XML as at boot, and plugged into a stopped guest for its next start.

Boots a VM: run under the shared lock,
``flock /tmp/stratus-vm.lock pytest tests/functional/compute_agent/test_interface_hotplug.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from agents.compute import domain_xml, paths
from agents.compute.model import Flavor, Instance, Vif

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")

BOOT_TIMEOUT = 150


def _ovs(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["ovs-vsctl", "--timeout=10", *args], capture_output=True,
                          text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"ovs-vsctl {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def bridge():
    """A private userspace-datapath bridge, removed afterwards."""
    if shutil.which("ovs-vsctl") is None or subprocess.run(
            ["ovs-vsctl", "--timeout=5", "show"], capture_output=True,
            check=False).returncode != 0:
        pytest.skip("Open vSwitch is not running (ovsdb-server, ovs-vswitchd)")
    name = f"brf{uuid.uuid4().hex[:8]}"
    _ovs("add-br", name, "--", "set", "bridge", name, "datapath_type=netdev")
    yield name
    _ovs("--if-exists", "del-br", name, check=False)


def _iface_ids(bridge: str) -> dict[str, str]:
    """{interface name: iface-id} of the bridge's ports."""
    found = {}
    for port in _ovs("list-ports", bridge).split():
        iface_id = _ovs("--if-exists", "get", "Interface", port, "external_ids:iface-id",
                        check=False).strip('"')
        found[port] = iface_id
    return found


class Wiring:
    """Stands in for the OVS agent's report: a port is wired once its tap is on the
    bridge with its iface-id. Records the guest's libvirt state while it waited."""

    def __init__(self, conn, bridge: str):
        self.conn, self.bridge = conn, bridge
        self.instance_uuid = ""
        self.seen: list[tuple[list[str], int]] = []

    def __call__(self, port_ids, timeout) -> bool:
        dom = self.conn.lookupByName(paths.domain_name(self.instance_uuid))
        self.seen.append((list(port_ids), dom.state()[0]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set(port_ids) <= set(_iface_ids(self.bridge).values()):
                return True
            time.sleep(0.2)
        return False


@pytest.fixture(scope="module")
def wiring(bridge, libvirt_uri):
    conn = libvirt.open(libvirt_uri)
    yield Wiring(conn, bridge)
    conn.close()


@pytest.fixture(scope="module")
def driver(compute_config, fetch, wiring):
    from agents.compute.libvirt_driver import LibvirtDriver

    return LibvirtDriver.from_conf(compute_config, fetch, wait_for_ports=wiring)


def _vif(bridge: str, index: int) -> Vif:
    return Vif(id=str(uuid.uuid4()), mac=f"fa:16:3e:5a:00:{index:02x}", type="ovs",
               bridge=bridge, mtu=1450)


def _macs(driver, instance_uuid: str, inactive: bool) -> list[str]:
    dom = driver.host.lookup(instance_uuid)
    return domain_xml.interface_macs(driver.host.xml(instance_uuid, dom, inactive))


def _console(driver, instance_uuid: str, text: str, count: int = 1) -> str:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        log = driver.get_console_output(instance_uuid, max_bytes=4 << 20)
        if log.count(text) >= count:
            return log
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not seen {count} times within {BOOT_TIMEOUT} s; "
                        f"tail:\n{log[-2500:]}")
        time.sleep(0.2)


def _wait(what: str, predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_ports_on_a_real_guest(driver, wiring, bridge, image):
    first, second, third = (_vif(bridge, i) for i in (1, 2, 3))
    instance = Instance(uuid=str(uuid.uuid4()), name="hotplug", project_id="p" * 32,
                        flavor=Flavor("m1.nano", 128, 1, 1), image=image,
                        config_drive=True, vifs=(first,))
    wiring.instance_uuid = instance.uuid
    try:
        driver.spawn(instance)
        # It ran only once its tap was wired, and was paused until then.
        assert wiring.seen == [([first.id], libvirt.VIR_DOMAIN_PAUSED)]
        assert driver.get_info(instance.uuid).power_state.name == "RUNNING"
        _console(driver, instance.uuid, "stratus-guest ready:")
        assert first.devname in _iface_ids(bridge)

        driver.attach_interface(instance.uuid, second)
        driver.attach_interface(instance.uuid, second)  # again: a no-op
        assert _macs(driver, instance.uuid, False) == [first.mac, second.mac]
        assert _macs(driver, instance.uuid, True) == [first.mac, second.mac]
        assert _iface_ids(bridge).get(second.devname) == second.id
        live = ET.fromstring(driver.host.xml(instance.uuid,
                                             driver.host.lookup(instance.uuid)))
        plugged = [i for i in live.findall("devices/interface")
                   if i.find("mac").get("address") == second.mac][0]
        assert plugged.find("driver/host").get("csum") == "off"  # as at boot

        driver.detach_interface(instance.uuid, second)  # the guest releases it (ACPI)
        assert _macs(driver, instance.uuid, False) == [first.mac]
        assert _macs(driver, instance.uuid, True) == [first.mac]
        _wait("the tap to leave the bridge",
              lambda: second.devname not in _iface_ids(bridge))

        # A stopped guest gets the NIC in its definition, and has it at the next start.
        driver.power_off(instance.uuid, timeout=0)
        driver.attach_interface(instance.uuid, third)
        assert _macs(driver, instance.uuid, True) == [first.mac, third.mac]
        driver.power_on(instance.uuid)
        assert _macs(driver, instance.uuid, False) == [first.mac, third.mac]
        _wait("the new tap on the bridge",
              lambda: _iface_ids(bridge).get(third.devname) == third.id)
    finally:
        driver.destroy(instance.uuid)
    _wait("every tap to leave the bridge", lambda: not _iface_ids(bridge))
