"""A volume-backed instance on LibvirtDriver over the stub libvirt of test_libvirt_driver:
the root disk is the volume (no local overlay, its CHAP secret stored before the
definition), a resize only changes the definition and a revert goes back, and a destroy
takes the secret away with the last guest using it."""

from __future__ import annotations

import dataclasses
import uuid
import xml.etree.ElementTree as ET

import pytest

from agents.compute import domain_xml, libvirt_disk
from agents.compute.block_device import VolumeDevice
from agents.compute.model import Flavor
from agents.compute.power_state import PowerState
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.test_libvirt_disk import FakeConn, _info
from tests.unit.compute_agent.test_libvirt_driver import env  # noqa: F401 - fixture

pytest.importorskip("libvirt", reason="libvirt-python not installed")


def test_volume_backed_spawn_resize_revert_and_destroy(env, tmp_path):  # noqa: F811
    driver, conn, _, _ = env
    secrets = FakeConn()
    conn.secretLookupByUsage = secrets.secretLookupByUsage
    conn.secretDefineXML = secrets.secretDefineXML
    volume_id = str(uuid.uuid4())
    root = VolumeDevice(volume_id, "vda", _info(volume_id), boot_index=0,
                        initiator="iqn.2010-10.org.stratus:h1")
    inst = dataclasses.replace(helpers.instance(), image=None, volumes=(root,))
    assert driver.spawn(inst).power_state == PowerState.RUNNING
    dom = conn.domains[f"instance-{inst.uuid}"]
    disks = ET.fromstring(dom.xml).findall("devices/disk")
    assert (disks[0].get("type"), disks[0].find("target").get("dev")) == ("network", "vda")
    assert all(d.get("type") != "file" or d.get("device") == "cdrom" for d in disks)
    assert "<image" not in dom.xml  # no image in the metadata either
    secret = secrets.secrets[libvirt_disk.secret_usage(volume_id)]
    assert secret.value == b"pw"
    assert not (tmp_path / inst.uuid / "disk").exists()

    bigger = dataclasses.replace(inst, flavor=Flavor("m1.small", 128, 2, 3))
    assert driver.resize(bigger).power_state == PowerState.RUNNING
    assert domain_xml.flavor_of(dom.xml)["memory_mb"] == 128
    assert (tmp_path / inst.uuid / "resize.json").exists()
    assert not (tmp_path / inst.uuid / "disk.resize-orig").exists()
    assert driver.revert_resize(inst).power_state == PowerState.RUNNING
    assert domain_xml.flavor_of(dom.xml)["memory_mb"] == 64
    assert not (tmp_path / inst.uuid / "resize.json").exists()
    assert [d.find("target").get("dev") for d in ET.fromstring(dom.xml).findall(
        "devices/disk") if d.get("type") == "network"] == ["vda"]

    driver.destroy(inst.uuid)
    assert secret.undefined
