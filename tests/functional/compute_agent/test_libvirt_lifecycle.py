"""The libvirt driver against a real libvirtd and a real QEMU/TCG guest.

One guest for the whole module (booting under TCG costs seconds): a single test walks it
through spawn -> ready line (uuid + user-data marker from the config drive) -> start-up
reconciliation next to an orphan -> graceful power off -> power on -> soft and hard
reboot -> pause/unpause -> suspend/resume (managed save) -> destroy, checking libvirt's
own view (virDomainGetState on a separate connection) after every step, and finally that
no domain, disk, config drive or saved memory image is left. It is one test, not one per
step, so that ``pytest -n 2`` cannot split the steps across workers and boot twice.

Timings are printed (``-s``) and recorded as test properties.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid

import pytest

from agents.compute import domain_xml, paths, reconcile
from agents.compute.exception import ImageChecksumMismatch, InstanceNotFound, InvalidPowerState
from agents.compute.libvirt_driver import LibvirtDriver
from agents.compute.model import Flavor, ImageRef, Instance
from agents.compute.power_state import PowerState

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")

BOOT_TIMEOUT = 120  # s from start to the ready line (about 6-13 s under TCG here)
READY = "stratus-guest ready: instance-id={uuid} addresses="
SAVE_DIR = "/var/lib/libvirt/qemu/save"


@pytest.fixture(scope="module")
def driver(compute_config, fetch):
    return LibvirtDriver.from_conf(compute_config, fetch)


@pytest.fixture(scope="module")
def conn(libvirt_uri):
    """libvirt's own view, on a connection the driver does not share."""
    connection = libvirt.open(libvirt_uri)
    yield connection
    connection.close()


@pytest.fixture
def cleanup(driver):
    """uuids to destroy whatever happens to the test."""
    uuids: list[str] = []
    yield uuids
    for instance_uuid in uuids:
        driver.destroy(instance_uuid)


class Timings:
    def __init__(self, record):
        self.record = record
        self.values: dict[str, float] = {}

    def __call__(self, name: str, started: float) -> float:
        took = time.monotonic() - started
        self.values[name] = took
        self.record(f"seconds_{name.replace(' ', '_')}", round(took, 2))
        print(f"TIMING {name}: {took:.2f} s")
        return took


def _state(conn, instance_uuid: str) -> tuple[int, int]:
    state, reason = conn.lookupByName(paths.domain_name(instance_uuid)).state()
    return state, reason


def _qemu_pid(instance_uuid: str) -> str:
    with open(f"/run/libvirt/qemu/{paths.domain_name(instance_uuid)}.pid") as pid:
        return pid.read().strip()


def _wait_console(driver, instance_uuid: str, text: str, count: int,
                  timeout: float = BOOT_TIMEOUT) -> str:
    """Wait until text appears count times in the console log; return the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = driver.get_console_output(instance_uuid, max_bytes=4 << 20)
        if log.count(text) >= count:
            return log
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} seen {log.count(text)} times, not {count}, within "
                        f"{timeout} s; console tail:\n{log[-3000:]}")
        time.sleep(0.1)


def _instance(image: ImageRef, marker: str, name: str = "tiny") -> Instance:
    return Instance(
        uuid=str(uuid.uuid4()), name=name, project_id="5a8c2b6e0a5b4f7c9a2e1d3c4b5a6978",
        user_id="0a1b2c3d", flavor=Flavor("m1.nano", 128, 1, 1), image=image,
        availability_zone="nova", config_drive=True, hostname=f"{name}.example",
        user_data=f"#!/bin/sh\necho {marker}\n".encode(),
        public_keys={"alice": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFN0cmF0dXM alice"},
        metadata={"purpose": "functional-test"})


def _nothing_left(conn, driver, instance_uuid: str) -> None:
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByName(paths.domain_name(instance_uuid))
    files = paths.InstancePaths(driver.image_cache.instances_path, instance_uuid)
    assert not os.path.exists(files.directory), os.listdir(files.directory)
    assert not os.path.exists(os.path.join(SAVE_DIR, paths.domain_name(instance_uuid) + ".save"))


def test_guest_lifecycle_through_the_driver(driver, conn, image, cleanup, record_property):
    timing = Timings(record_property)
    marker = f"USERDATA-{uuid.uuid4().hex[:12]}"
    inst = _instance(image, marker)
    uid = inst.uuid
    cleanup.append(uid)
    ready = READY.format(uuid=uid)

    # ---- spawn: image fetched into the cache, overlay + config drive, domain started
    started = time.monotonic()
    info = driver.spawn(inst)
    timing("spawn call", started)
    assert info.power_state == PowerState.RUNNING
    assert _state(conn, uid)[0] == libvirt.VIR_DOMAIN_RUNNING
    log = _wait_console(driver, uid, ready, 1)
    timing("spawn to ready", started)
    assert marker in log and log.index(marker) < log.index(ready), "user_data ran before ready"
    assert re.search(r"hostname: tiny\r?$", log, re.MULTILINE)
    live_xml = conn.lookupByName(paths.domain_name(uid)).XMLDesc(0)
    assert f"<domain type='{driver._opts.virt_type}'" in live_xml
    files = paths.InstancePaths(driver.image_cache.instances_path, uid)
    assert os.path.exists(files.disk) and os.path.exists(files.config_drive)
    # The shared base image was not handed to the QEMU user (see domain_xml._disk).
    assert os.stat(driver.image_cache.base_path(image.id)).st_uid == 0

    # ---- start-up reconciliation: an orphan domain (deleted instance) next to ours
    orphan = _define_orphan(conn, driver, inst)
    cleanup.append(orphan)
    actions = reconcile.converge(driver, [reconcile.Expected(uid),
                                          reconcile.Expected(orphan, deleted=True)])
    assert {(a.kind, a.uuid) for a in actions} == {(reconcile.Kind.REPORT, uid),
                                                  (reconcile.Kind.DESTROY, orphan)}
    _nothing_left(conn, driver, orphan)
    assert _state(conn, uid) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
    assert driver.get_console_output(uid, 4 << 20).count(ready) == 1  # left running

    # ---- graceful power off: the guest's own ACPI handler powers it off
    started = time.monotonic()
    assert driver.power_off(uid) is True, "guest ignored the ACPI power button"
    timing("power off (graceful)", started)
    assert _state(conn, uid) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
    assert driver.get_info(uid).power_state == PowerState.SHUTDOWN
    assert "ACPI power button pressed" in driver.get_console_output(uid, 4 << 20)
    with pytest.raises(InvalidPowerState):
        driver.pause(uid)

    # ---- power on: a cold boot, second ready line
    started = time.monotonic()
    driver.power_on(uid)
    timing("power on call", started)
    assert _state(conn, uid)[0] == libvirt.VIR_DOMAIN_RUNNING
    _wait_console(driver, uid, ready, 2)
    timing("power on to ready", started)

    # ---- soft reboot: ACPI shutdown then start
    started = time.monotonic()
    assert driver.reboot(uid) == "soft"
    timing("reboot soft call", started)
    _wait_console(driver, uid, ready, 3)
    timing("reboot soft to ready", started)

    # ---- hard reboot: a new QEMU process
    pid = _qemu_pid(uid)
    started = time.monotonic()
    assert driver.reboot(uid, hard=True) == "hard"
    timing("reboot hard call", started)
    assert _state(conn, uid)[0] == libvirt.VIR_DOMAIN_RUNNING
    assert _qemu_pid(uid) != pid
    _wait_console(driver, uid, ready, 4)
    timing("reboot hard to ready", started)

    # ---- pause / unpause
    started = time.monotonic()
    driver.pause(uid)
    timing("pause", started)
    assert _state(conn, uid) == (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER)
    assert driver.get_info(uid).power_state == PowerState.PAUSED
    started = time.monotonic()
    driver.unpause(uid)
    timing("unpause", started)
    assert _state(conn, uid)[0] == libvirt.VIR_DOMAIN_RUNNING
    _serial_echo(conn, driver, uid, "after-unpause")

    # ---- suspend (managed save) / resume: memory restored, not rebooted
    started = time.monotonic()
    driver.suspend(uid)
    timing("suspend (managed save)", started)
    dom = conn.lookupByName(paths.domain_name(uid))
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED]
    assert dom.hasManagedSaveImage(0) == 1
    assert driver.get_info(uid).power_state == PowerState.SUSPENDED
    started = time.monotonic()
    driver.resume(uid)
    timing("resume", started)
    assert _state(conn, uid) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED)
    assert dom.hasManagedSaveImage(0) == 0
    _serial_echo(conn, driver, uid, "after-resume")
    assert driver.get_console_output(uid, 4 << 20).count(ready) == 4  # no fifth boot

    # ---- destroy: nothing left but the cached base image, which cleanup removes
    started = time.monotonic()
    driver.destroy(uid)
    timing("destroy", started)
    _nothing_left(conn, driver, uid)
    assert uid not in {i.uuid for i in driver.list_instances()}
    assert driver.image_cache.cleanup(min_age=0) == [image.id]
    assert os.listdir(driver.image_cache.base_dir) == ["locks"]
    print("TIMINGS " + ", ".join(f"{k}={v:.2f}s" for k, v in timing.values.items()))


def _define_orphan(conn, driver, alive: Instance) -> str:
    """A defined (not started) domain plus files, as a deleted instance leaves them."""
    orphan = Instance(uuid=str(uuid.uuid4()), name="orphan", project_id=alive.project_id,
                      flavor=alive.flavor, image=alive.image)
    files = paths.InstancePaths(driver.image_cache.instances_path, orphan.uuid)
    files.ensure_directory()
    driver.image_cache.create_overlay(orphan.image, files.disk, 1)
    conn.defineXML(domain_xml.build(driver.domain_spec(orphan, files)))
    return orphan.uuid


def _serial_echo(conn, driver, instance_uuid: str, word: str) -> None:
    """Type into the guest's serial console on its TCP port (the path the console proxy
    takes) and see the shell's answer, on the socket and in the console log: the guest
    really runs."""
    port = driver.console_port(instance_uuid, "serial")
    answer = serial_exchange(port, f"echo {word}-$((6*7))", f"{word}-42")
    assert f"{word}-42" in answer
    _wait_console(driver, instance_uuid, f"{word}-42", 1, timeout=30)


def serial_exchange(port: int, command: str, expect: str, timeout: float = 30) -> str:
    """Send command to a raw TCP serial console; return what came back up to expect."""
    deadline = time.monotonic() + timeout
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"\n{command}\n".encode())
        while expect.encode() not in received:
            if time.monotonic() > deadline:
                pytest.fail(f"{expect!r} not echoed on serial port {port} within "
                            f"{timeout} s; got {received[-2000:]!r}")
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                pytest.fail(f"serial port {port} closed the connection")
            received += chunk
    return received.decode("utf-8", "replace")


def test_failed_spawn_leaves_nothing(driver, conn, cleanup):
    # An image id of its own: a cached base is not downloaded (nor verified) again.
    bad = ImageRef(str(uuid.uuid4()), disk_format="qcow2", os_hash_algo="sha512",
                   os_hash_value="0" * 128)
    inst = _instance(bad, "never")
    cleanup.append(inst.uuid)
    with pytest.raises(ImageChecksumMismatch):
        driver.spawn(inst)
    _nothing_left(conn, driver, inst.uuid)
    assert not os.path.exists(driver.image_cache.base_path(bad.id))


def test_unknown_instance(driver):
    missing = str(uuid.uuid4())
    for call in (driver.power_on, driver.pause, driver.get_info):
        with pytest.raises(InstanceNotFound):
            call(missing)
    driver.destroy(missing)  # idempotent


def test_host_resources(driver):
    resources = driver.host_resources()
    assert resources.vcpus == os.cpu_count()
    assert resources.memory_mb > 512
    assert resources.hypervisor_version >= 1000000  # QEMU major * 1e6 + minor * 1e3
    assert resources.disk_gb >= resources.disk_free_gb > 0
