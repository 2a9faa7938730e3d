"""A volume hot-plugged into running QEMU/TCG guests over iSCSI with CHAP.

The volume agent's manager exports it (tgt), the compute side's helpers
(:mod:`agents.compute.libvirt_disk`) store the CHAP secret in libvirt and plug a
``<disk type='network'>``: the first guest sees a new virtio disk and writes a marker;
after a detach the second guest gets it and reads the marker; after an extend and a
re-attach it sees the new size. Both guests boot from the stratus-tiny image through the
compute agent's libvirt driver. Run with ``flock /tmp/stratus-vm.lock``.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from agents.compute import libvirt_disk, paths
from agents.compute.libvirt_driver import LibvirtDriver
from agents.volume.manager import VolumeManager
from common.context import RequestContext
from tests.functional.compute_agent.conftest import (  # noqa: F401 - fixtures
    agent_host,
    compute_config,
    fetch,
    image,
    instances_path,
    libvirt_uri,
)
from tests.functional.volume_agent import guests
from tests.unit.volume_agent.helpers import RecordingServer

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
CTX = RequestContext.admin()
LOCAL = {"host": "func-test", "ip": "127.0.0.1", "initiator": None}


@pytest.fixture
def compute(compute_config, fetch):  # noqa: F811
    return LibvirtDriver.from_conf(compute_config, fetch)


@pytest.fixture
def conn(libvirt_uri):  # noqa: F811
    connection = libvirt.open(libvirt_uri)
    yield connection
    connection.close()


@pytest.fixture
def manager(driver, targets, chap, workdir):
    return VolumeManager("func@file", driver, targets, RecordingServer(), chap,
                         conversion_dir=str(workdir / "conv"))


def test_volume_moves_between_guests_with_its_data(compute, conn, manager, image,  # noqa: F811
                                                   qemu_iscsi, record_property):
    server = manager.server
    volume_id = str(uuid.uuid4())
    server.add_volume(volume_id)
    manager.create_volume(CTX, {"id": volume_id, "size": 1, "source": {"type": "blank"}})
    assert server.status(volume_id) == "available"
    marker = f"MARKER-{uuid.uuid4().hex[:12]}"
    writer = guests.instance(image, guests.WRITE_MARKER.format(marker=marker), "writer")
    reader = guests.instance(image, "", "reader")
    timings = {}
    try:
        for inst in (writer, reader):
            compute.spawn(inst)
        for inst in (writer, reader):
            guests.wait_console(compute, inst.uuid, guests.READY.format(uuid=inst.uuid))

        # attach to the writer: a new virtio disk appears, the marker is written
        started = time.monotonic()
        info = manager.initialize_connection(CTX, volume_id, LOCAL)
        xml = guests.attach(conn, paths.domain_name(writer.uuid), info)
        log = guests.wait_console(compute, writer.uuid, f"VOLTEST 1 wrote {marker}")
        timings["attach_to_written"] = time.monotonic() - started
        assert re.search(r"VOLTEST 1 sectors=2097152 first=\r?\n", log), log[-2000:]
        started = time.monotonic()
        guests.detach(conn, paths.domain_name(writer.uuid), xml)
        guests.wait_console(compute, writer.uuid, "VOLTEST 1 gone")
        manager.terminate_connection(CTX, volume_id, LOCAL)
        timings["detach"] = time.monotonic() - started

        # attach to the reader: the marker is there
        info = manager.initialize_connection(CTX, volume_id, LOCAL)
        xml = guests.attach(conn, paths.domain_name(reader.uuid), info)
        log = guests.wait_console(compute, reader.uuid, "VOLTEST 1 sectors=")
        assert f"VOLTEST 1 sectors=2097152 first={marker}" in log, log[-2000:]
        guests.detach(conn, paths.domain_name(reader.uuid), xml)
        manager.terminate_connection(CTX, volume_id, LOCAL)

        # extend, re-attach: the reader sees 2 GiB, and still the marker
        server.volumes[volume_id]["status"] = "extending"
        manager.extend_volume(CTX, volume_id, 2)
        assert server.status(volume_id) == "available"
        info = manager.initialize_connection(CTX, volume_id, LOCAL)
        xml = guests.attach(conn, paths.domain_name(reader.uuid), info)
        log = guests.wait_console(compute, reader.uuid, "VOLTEST 2 sectors=")
        assert f"VOLTEST 2 sectors=4194304 first={marker}" in log, log[-2000:]
        guests.detach(conn, paths.domain_name(reader.uuid), xml)
        manager.terminate_connection(CTX, volume_id, LOCAL)
    finally:
        for inst in (writer, reader):
            compute.destroy(inst.uuid)
        libvirt_disk.remove_secret(conn, volume_id)
        manager.delete_volume(CTX, volume_id)
    for name, seconds in timings.items():
        record_property(f"seconds_{name}", round(seconds, 2))
        print(f"TIMING {name}: {seconds:.2f} s")
    assert manager.targets.list_exports() == []
    assert manager.driver.list_volumes() == set()
    with pytest.raises(libvirt.libvirtError):
        conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI,
                                 libvirt_disk.secret_usage(volume_id))
