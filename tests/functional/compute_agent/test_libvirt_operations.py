"""Snapshot, resize (revert and confirm), rebuild and the serial TCP console against a
real libvirtd and QEMU/TCG guests, checked against libvirt's and qemu-img's own view.

One guest for the module, walked through its life in one test (so ``pytest -n`` cannot
split it): spawn -> ready line in the console log and a shell on the serial TCP port ->
snapshot while running (a flattened qcow2) -> that snapshot boots as a second guest ->
resize up (memory, vCPUs, disk) -> revert -> resize -> confirm -> rebuild from the
snapshot (console log and serial port kept) -> destroy. Next to it, a domain tagged with
another agent's host must survive this agent's reconciliation.

Run under ``flock /tmp/stratus-vm.lock`` (QEMU guests on a shared machine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import time
import uuid

import pytest

from agents.compute import domain_xml, paths, reconcile
from agents.compute.libvirt_driver import LibvirtDriver
from agents.compute.model import Flavor, ImageRef, Instance
from agents.compute.power_state import PowerState
from tests.functional.compute_agent.test_libvirt_lifecycle import (
    READY,
    _nothing_left,
    _wait_console,
    serial_exchange,
)

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")

NANO = Flavor("m1.nano", 128, 1, 1)
BIGGER = Flavor("m1.micro", 192, 2, 2)
GIB = 1024 ** 3


@pytest.fixture(scope="module")
def store(tmp_path_factory, guest_image):
    """A stand-in image service: image id -> file (the guest image, then snapshots)."""
    root = tmp_path_factory.mktemp("images")
    return {"root": root, "files": {}}


@pytest.fixture(scope="module")
def driver(compute_config, store, guest_image, image):
    store["files"][image.id] = str(guest_image)

    def fetch(image_id):
        with open(store["files"][image_id], "rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk

    return LibvirtDriver.from_conf(compute_config, fetch)


@pytest.fixture(scope="module")
def conn(libvirt_uri):
    connection = libvirt.open(libvirt_uri)
    yield connection
    connection.close()


@pytest.fixture
def cleanup(driver, conn):
    uuids: list[str] = []
    yield uuids
    for instance_uuid in uuids:
        driver.destroy(instance_uuid)
        try:
            conn.lookupByName(paths.domain_name(instance_uuid)).undefine()
        except libvirt.libvirtError:
            pass


def _instance(image: ImageRef, name: str, flavor: Flavor = NANO) -> Instance:
    return Instance(uuid=str(uuid.uuid4()), name=name, project_id="p-func",
                    flavor=flavor, image=image, hostname=f"{name}.example")


def _live(conn, instance_uuid: str) -> tuple[int, int]:
    """(memory MiB, vCPUs) of the running domain, from libvirt's own live XML."""
    dom = conn.lookupByName(paths.domain_name(instance_uuid))
    state, max_mem_kib, _, vcpus, _ = dom.info()
    assert state == libvirt.VIR_DOMAIN_RUNNING
    return max_mem_kib // 1024, vcpus


def _virtual_size(path: str) -> int:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["virtual-size"]


def _shell(driver, instance_uuid: str, word: str) -> None:
    port = driver.console_port(instance_uuid, "serial")
    serial_exchange(port, f"echo {word}-$((6*7))", f"{word}-42")


def test_snapshot_resize_rebuild_and_serial_console(driver, conn, image, store, cleanup,
                                                   agent_host):
    timings: dict[str, float] = {}

    def took(name: str, started: float) -> None:
        timings[name] = round(time.monotonic() - started, 2)

    inst = _instance(image, "ops")
    uid = inst.uuid
    cleanup.append(uid)
    ready = READY.format(uuid=uid)
    files = paths.InstancePaths(driver.image_cache.instances_path, uid)

    # ---- spawn: the serial port is a local TCP port; the log fills all the same
    started = time.monotonic()
    driver.spawn(inst)
    _wait_console(driver, uid, ready, 1)
    took("spawn to ready", started)
    dom = conn.lookupByName(paths.domain_name(uid))
    port = domain_xml.serial_port(dom.XMLDesc(0))
    assert port and 20000 <= port <= 29999
    assert driver.console_port(uid, "serial") == port
    assert driver.console_port(uid, "novnc") >= 5900
    assert domain_xml.owner_host(dom.XMLDesc(0)) == agent_host
    _shell(driver, uid, "first-boot")

    # ---- another agent's domain on the same libvirtd is not ours to reconcile
    foreign = _instance(image, "foreign")
    cleanup.append(foreign.uuid)
    spec = dataclasses.replace(driver.domain_spec(foreign, paths.InstancePaths(
        "/nonexistent", foreign.uuid)), owner_host="some-other-agent")
    conn.defineXML(domain_xml.build(spec))
    assert foreign.uuid not in {info.uuid for info in driver.list_instances()}
    actions = reconcile.converge(driver, [reconcile.Expected(uid)])
    assert [(a.kind, a.uuid) for a in actions] == [(reconcile.Kind.REPORT, uid)]
    conn.lookupByName(paths.domain_name(foreign.uuid))  # still defined
    conn.lookupByName(paths.domain_name(foreign.uuid)).undefine()

    # ---- snapshot while running: paused for the copy only, uploaded as a stream
    snap_id = str(uuid.uuid4())
    snap_path = str(store["root"] / f"{snap_id}.qcow2")
    states_during_upload = []

    def upload(chunks):
        states_during_upload.append(driver.get_info(uid).power_state)
        with open(snap_path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)

    started = time.monotonic()
    driver.snapshot(uid, upload)
    took("snapshot", started)
    assert states_during_upload == [PowerState.RUNNING]
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", snap_path],
                                     check=True, capture_output=True, text=True).stdout)
    assert info["format"] == "qcow2" and "backing-filename" not in info  # flattened
    assert os.listdir(paths.snapshot_dir(driver.image_cache.instances_path)) == []
    _shell(driver, uid, "after-snapshot")

    # ---- the snapshot boots (as the image service would serve it)
    store["files"][snap_id] = snap_path
    with open(snap_path, "rb") as data:
        snap_image = ImageRef(snap_id, "qcow2", "sha512",
                              hashlib.sha512(data.read()).hexdigest())
    clone = _instance(snap_image, "clone")
    cleanup.append(clone.uuid)
    started = time.monotonic()
    driver.spawn(clone)
    _wait_console(driver, clone.uuid, READY.format(uuid=clone.uuid), 1)
    took("snapshot boots", started)
    assert driver.console_port(clone.uuid, "serial") != port
    driver.destroy(clone.uuid)
    _nothing_left(conn, driver, clone.uuid)

    # ---- resize up: more memory, vCPUs and disk; a copy kept for the revert
    assert _live(conn, uid) == (128, 1)
    assert _virtual_size(files.disk) == 1 * GIB
    bigger = dataclasses.replace(inst, flavor=BIGGER)
    started = time.monotonic()
    assert driver.resize(bigger, NANO).power_state == PowerState.RUNNING
    _wait_console(driver, uid, ready, 2)
    took("resize to ready", started)
    assert _live(conn, uid) == (192, 2)
    assert _virtual_size(files.disk) == 2 * GIB
    assert os.path.exists(files.resize_copy)
    assert domain_xml.serial_port(dom.XMLDesc(0)) == port
    _shell(driver, uid, "resized")

    # ---- revert: the old flavor and the disk as it was, running again
    started = time.monotonic()
    assert driver.revert_resize(inst).power_state == PowerState.RUNNING
    _wait_console(driver, uid, ready, 3)
    took("revert to ready", started)
    assert _live(conn, uid) == (128, 1)
    assert _virtual_size(files.disk) == 1 * GIB
    assert not os.path.exists(files.resize_copy)

    # ---- resize again, then confirm: the copy goes, the new size stays
    driver.resize(bigger)
    _wait_console(driver, uid, ready, 4)
    driver.confirm_resize(uid)
    assert not os.path.exists(files.resize_copy)
    assert not os.path.exists(files.resize_record)
    assert _live(conn, uid) == (192, 2)
    assert _virtual_size(files.disk) == 2 * GIB

    # ---- rebuild from the snapshot: new disk, same console log and serial port
    rebuilt = dataclasses.replace(bigger, image=snap_image)
    started = time.monotonic()
    assert driver.rebuild(rebuilt).power_state == PowerState.RUNNING
    log = _wait_console(driver, uid, ready, 5)
    took("rebuild to ready", started)
    assert "first-boot-42" in log  # the log of earlier lives is kept
    dom = conn.lookupByName(paths.domain_name(uid))
    assert domain_xml.serial_port(dom.XMLDesc(0)) == port
    assert f"_base/{snap_id}" in dom.XMLDesc(0)
    _shell(driver, uid, "rebuilt")

    # ---- a stopped guest has no console to reach
    driver.power_off(uid, timeout=0)
    with pytest.raises(Exception, match="start it"):
        driver.console_port(uid, "serial")
    driver.destroy(uid)
    _nothing_left(conn, driver, uid)
    print("TIMINGS", timings)
