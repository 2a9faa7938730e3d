"""The compute agent's volumes against real libvirt, QEMU/TCG guests and tgt with CHAP.

The volume agent's manager (file backend, tgt) makes and exports the volumes, as it does
for the block storage service; the compute agent's libvirt driver does the rest: a
hot-plug into a running guest that writes a marker, a hot-unplug the guest releases, an
attach to a stopped guest that its next boot sees (persistent definition), a guest that
boots from a volume made from the stratus-tiny image (no local root disk), and CHAP
secrets that go with the last guest using them. Run with ``flock /tmp/stratus-vm.lock``.
"""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest

from agents.compute import libvirt_disk, paths
from agents.compute.block_device import VolumeDevice
from agents.compute.libvirt_driver import LibvirtDriver
from agents.volume.manager import VolumeManager
from common.context import RequestContext
from tests.functional.compute_agent.conftest import (  # noqa: F401 - fixtures
    compute_config,
    fetch,
    image,
    instances_path,
    libvirt_uri,
)
from tests.functional.volume_agent import guests
from tests.functional.volume_agent.conftest import (  # noqa: F401 - fixtures
    backend,
    chap,
    driver,
    fetch_guest_image,
    guest_image_record,
    qemu_iscsi,
    targets,
    tgtd,
    workdir,
)
from tests.unit.volume_agent.helpers import RecordingServer

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
CTX = RequestContext.admin()
INITIATOR = "iqn.2010-10.org.stratus:func-volumes"
LOCAL = {"host": "func-volumes", "ip": "127.0.0.1", "initiator": INITIATOR}


@pytest.fixture
def compute(compute_config, fetch):  # noqa: F811
    return LibvirtDriver.from_conf(compute_config, fetch)


@pytest.fixture
def manager(driver, targets, chap, workdir, fetch_guest_image):  # noqa: F811
    return VolumeManager("func@file", driver, targets, RecordingServer(), chap,
                         fetch=fetch_guest_image, conversion_dir=str(workdir / "conv"))


def _secret(conn, volume_id: str):
    try:
        return conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI,
                                        libvirt_disk.secret_usage(volume_id))
    except libvirt.libvirtError:
        return None


def _create(manager, size: int = 1, source: dict | None = None) -> str:
    volume_id = str(uuid.uuid4())
    manager.server.add_volume(volume_id)
    manager.create_volume(CTX, {"id": volume_id, "size": size,
                                "source": source or {"type": "blank"}})
    assert manager.server.status(volume_id) == "available"
    return volume_id


def test_volumes_in_running_stopped_and_volume_backed_guests(
        compute, manager, image, guest_image_record, qemu_iscsi, instances_path):  # noqa: F811
    conn = compute.host.connection()
    data = _create(manager)
    root = _create(manager, source={"type": "image", "id": guest_image_record["id"],
                                    "image": guest_image_record})
    marker = f"MARKER-{uuid.uuid4().hex[:12]}"
    writer = guests.instance(image, guests.WRITE_MARKER.format(marker=marker), "writer")
    booted_from_volume = None
    try:
        compute.spawn(writer)
        guests.wait_console(compute, writer.uuid, guests.READY.format(uuid=writer.uuid))

        # Hot-plug into the running guest: live and persistent, and idempotent.
        volume = VolumeDevice(data, "vdb", manager.initialize_connection(CTX, data, LOCAL),
                              initiator=INITIATOR)
        assert compute.attach_volume(writer.uuid, volume) == "vdb"
        assert compute.attach_volume(writer.uuid, volume) == "vdb"
        log = guests.wait_console(compute, writer.uuid, f"VOLTEST 1 wrote {marker}")
        assert "VOLTEST 1 sectors=2097152 first=" in log
        dom = compute.host.lookup(writer.uuid)
        assert data in libvirt_disk.volume_disks(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert "<initiator>" in dom.XMLDesc(0) and _secret(conn, data) is not None

        # Hot-unplug: the guest lets go, the definition forgets it, the secret goes.
        compute.detach_volume(writer.uuid, data)
        guests.wait_console(compute, writer.uuid, "VOLTEST 1 gone")
        assert data not in libvirt_disk.volume_disks(
            dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert _secret(conn, data) is None
        compute.detach_volume(writer.uuid, data)  # nothing left to do

        # A stopped guest gets it in its definition; its next boot finds the marker.
        compute.power_off(writer.uuid, timeout=0)
        assert compute.attach_volume(writer.uuid, volume) == "vdb"
        compute.power_on(writer.uuid)
        log = guests.wait_console(compute, writer.uuid, guests.READY.format(uuid=writer.uuid),
                                  count=2)
        log = guests.wait_console(compute, writer.uuid, f"first={marker}")

        # A guest with no local disk boots from the volume made from the image.
        info = manager.initialize_connection(CTX, root, LOCAL)
        booted_from_volume = dataclasses.replace(
            guests.instance(image, "", "bfv"), image=None,
            volumes=(VolumeDevice(root, "vda", info, boot_index=0, initiator=INITIATOR),))
        compute.spawn(booted_from_volume)
        guests.wait_console(compute, booted_from_volume.uuid,
                            guests.READY.format(uuid=booted_from_volume.uuid))
        files = paths.InstancePaths(instances_path, booted_from_volume.uuid)
        assert not os.path.exists(files.disk)  # no local root overlay
    finally:
        for inst in (writer, booted_from_volume):
            if inst is not None:
                compute.destroy(inst.uuid)
        for volume_id in (data, root):
            manager.terminate_connection(CTX, volume_id, LOCAL)
    # Destroying the guests removed their volumes' secrets.
    assert _secret(conn, data) is None and _secret(conn, root) is None
    for volume_id in (data, root):
        manager.delete_volume(CTX, volume_id)
    assert manager.targets.list_exports() == []

