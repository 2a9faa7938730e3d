"""LibvirtDriver's serial ports, snapshot, resize/confirm/revert, rebuild and consoles over
the stub libvirt of test_libvirt_driver (disks are text files holding their size)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from agents.compute import domain_xml
from agents.compute.exception import ConsoleNotAvailable, DiskTooSmall, NotSupported
from agents.compute.model import Flavor, ImageRef
from agents.compute.power_state import PowerState
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.test_libvirt_driver import (  # noqa: F401 - fixture
    RUNNING,
    SHUTOFF,
    _add,
    env,
)

pytest.importorskip("libvirt", reason="libvirt-python not installed")


def _spawned(driver, conn, **fields):
    inst = helpers.instance(**fields)
    driver.spawn(inst)
    return inst, conn.domains[f"instance-{inst.uuid}"]


def test_serial_ports_are_distinct_kept_and_avoid_other_agents(env):  # noqa: F811
    driver, conn, _, _ = env
    _, foreign = _add(conn, owner="agent-b")
    foreign.xml = foreign.xml.replace("<devices>", "<devices><serial type='tcp'>"
                                      "<source mode='bind' service='10000'/></serial>")
    driver.serial_ports._rng.seed(0)
    ports = set()
    for _ in range(9):  # the range 10000-10009 minus the foreign 10000: nine ports
        _, dom = _spawned(driver, conn)
        ports.add(domain_xml.serial_port(dom.xml))
    assert ports == set(range(10001, 10010))
    with pytest.raises(Exception, match="no free serial console port"):
        _spawned(driver, conn)
    inst = helpers.instance()
    conn.domains.clear()
    driver.spawn(inst)
    dom = conn.domains[f"instance-{inst.uuid}"]
    port = domain_xml.serial_port(dom.xml)
    driver.spawn(inst)  # a respawn (or resize, rebuild) keeps the port
    assert domain_xml.serial_port(dom.xml) == port


def test_snapshot_pauses_a_running_guest_only_for_the_copy(env, tmp_path):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn)
    got = []

    def upload(chunks):
        assert dom.libvirt_state == RUNNING  # unpaused before the upload
        got.append(b"".join(chunks))

    driver.snapshot(inst.uuid, upload)
    assert dom.calls[-2:] == ["pause", "unpause"]
    assert got == [b"flat 1 image=" + helpers.IMAGE_ID.encode()]
    assert os.listdir(tmp_path / "snapshots") == []

    dom.libvirt_state, dom.calls = SHUTOFF, []
    driver.snapshot(inst.uuid, lambda chunks: b"".join(chunks))
    assert dom.calls == []  # a stopped guest is copied as it is

    def broken(chunks):
        raise OSError("image service went away")

    with pytest.raises(OSError):
        driver.snapshot(inst.uuid, broken)
    assert os.listdir(tmp_path / "snapshots") == []


def test_resize_then_revert_restores_disk_flavor_and_power(env, tmp_path):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn)
    port = domain_xml.serial_port(dom.xml)
    disk = tmp_path / inst.uuid / "disk"
    bigger = dataclasses.replace(inst, flavor=Flavor("m1.small", 128, 2, 3))
    info = driver.resize(bigger)
    assert info.power_state == PowerState.RUNNING
    assert dom.calls[-3:] == ["button", "define", "start"]
    assert domain_xml.flavor_of(dom.xml) == {"name": "m1.small", "memory_mb": 128,
                                            "vcpus": 2, "root_gb": 3}
    assert domain_xml.serial_port(dom.xml) == port
    assert disk.read_text().startswith("3 ")
    assert (tmp_path / inst.uuid / "disk.resize-orig").read_text().startswith("1 ")
    driver.resize(bigger)  # a retried cast keeps the first copy
    assert (tmp_path / inst.uuid / "disk.resize-orig").read_text().startswith("1 ")

    info = driver.revert_resize(inst)
    assert info.power_state == PowerState.RUNNING
    assert disk.read_text().startswith("1 ")
    assert domain_xml.flavor_of(dom.xml)["memory_mb"] == 64
    assert not (tmp_path / inst.uuid / "resize.json").exists()
    driver.revert_resize(inst)  # nothing left to revert: no harm


def test_resize_of_a_stopped_guest_then_confirm(env, tmp_path):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn)
    driver.power_off(inst.uuid, timeout=0)
    bigger = dataclasses.replace(inst, flavor=Flavor("m1.small", 128, 2, 2))
    assert driver.resize(bigger).power_state == PowerState.SHUTDOWN
    assert "start" not in dom.calls[-2:]
    driver.confirm_resize(inst.uuid)
    driver.confirm_resize(inst.uuid)
    assert sorted(os.listdir(tmp_path / inst.uuid)) == ["disk", "disk.config"]
    assert driver.revert_resize(inst).power_state == PowerState.SHUTDOWN


def test_resize_never_shrinks_and_touches_nothing(env):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn, flavor=Flavor("m1.small", 64, 1, 2))
    calls = list(dom.calls)
    with pytest.raises(DiskTooSmall, match="never shrunk"):
        driver.resize(dataclasses.replace(inst, flavor=Flavor("m1.nano", 64, 1, 1)))
    assert dom.calls == calls and dom.libvirt_state == RUNNING


def test_rebuild_replaces_the_disk_and_keeps_log_and_port(env, tmp_path):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn)
    port = domain_xml.serial_port(dom.xml)
    log = tmp_path / inst.uuid / "console.log"
    log.write_text("first life\n")
    new_image = "7d3e4f00-1111-4222-8333-944455556666"
    rebuilt = dataclasses.replace(inst, image=ImageRef(new_image))
    info = driver.rebuild(rebuilt, power_on=False)
    assert info.power_state == PowerState.SHUTDOWN
    dom = conn.domains[f"instance-{inst.uuid}"]
    assert (tmp_path / inst.uuid / "disk").read_text() == f"1 image={new_image}"
    assert log.read_text() == "first life\n"
    assert domain_xml.serial_port(dom.xml) == port


def test_console_ports(env):  # noqa: F811
    driver, conn, _, _ = env
    inst, dom = _spawned(driver, conn)
    assert driver.console_port(inst.uuid, "serial") == domain_xml.serial_port(dom.xml)
    with pytest.raises(ConsoleNotAvailable):
        driver.console_port(inst.uuid, "novnc")  # the stub's XML has no live VNC port
    dom.xml = dom.xml.replace('autoport="yes"', 'autoport="yes" port="5905"')
    assert driver.console_port(inst.uuid, "novnc") == 5905
    with pytest.raises(NotSupported):
        driver.console_port(inst.uuid, "spice")
    dom.libvirt_state = SHUTOFF
    with pytest.raises(ConsoleNotAvailable, match="start it"):
        driver.console_port(inst.uuid, "serial")


def test_stale_snapshot_copies_are_swept(env, tmp_path):  # noqa: F811
    driver, _, _, _ = env
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    (snapshots / "old.qcow2").write_text("x")
    (snapshots / "fresh.qcow2").write_text("x")
    os.utime(snapshots / "old.qcow2", (1, 1))
    driver.image_cache.cleanup = lambda min_age: []
    driver.cleanup_image_cache(0)
    assert os.listdir(snapshots) == ["fresh.qcow2"]
