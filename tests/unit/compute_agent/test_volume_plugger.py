"""Volumes on domains without libvirt: hot-plug flags, the device a volume gets,
idempotency, waiting for a guest to release a disk, CHAP secrets that go with the last
guest using them, and the definition of a volume-backed instance."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
import xml.etree.ElementTree as ET

import pytest

from agents.compute import domain_xml, libvirt_disk, volumes
from agents.compute.block_device import VolumeDevice
from agents.compute.exception import HypervisorError, InstanceNotFound, InvalidInput
from agents.compute.model import Instance
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.test_libvirt_disk import FakeConn, _info


def _volume(device: str = "vdb", boot_index: int | None = None) -> VolumeDevice:
    volume_id = str(uuid.uuid4())
    return VolumeDevice(volume_id, device, _info(volume_id), boot_index,
                        "iqn.2010-10.org.stratus:h1")


class Dom:
    """A virDomain look-alike holding its live and persistent disk elements."""

    def __init__(self, active: bool = True, disks: tuple[str, ...] = (),
                 releases: bool = True):
        self.active = active
        self.config = list(disks)
        self.live = list(disks) if active else []
        self.releases = releases
        self.calls: list[tuple] = []

    def isActive(self):  # noqa: N802
        return self.active

    def xml(self, inactive: bool) -> str:
        return "<domain><devices>" + "".join(self.config if inactive else self.live) + \
            "</devices></domain>"

    @staticmethod
    def _dev(xml: str) -> str:
        return ET.fromstring(xml).find("target").get("dev")

    def attachDeviceFlags(self, xml, flags):  # noqa: N802
        self.calls.append(("attach", flags, self._dev(xml)))
        if flags & volumes.AFFECT_CONFIG:
            self.config.append(xml)
        if flags & volumes.AFFECT_LIVE:
            self.live.append(xml)

    def detachDeviceFlags(self, xml, flags):  # noqa: N802
        self.calls.append(("detach", flags, self._dev(xml)))
        dev = self._dev(xml)
        if flags & volumes.AFFECT_CONFIG:
            self.config = [d for d in self.config if self._dev(d) != dev]
        if flags & volumes.AFFECT_LIVE and self.releases:
            self.live = [d for d in self.live if self._dev(d) != dev]


class Host:
    def __init__(self, *doms: Dom):
        self.doms = list(doms)
        self.conn = FakeConn()
        self.conn.listAllDomains = lambda flags: self.doms

    def lookup(self, instance_uuid):
        if not self.doms:
            raise InstanceNotFound(f"instance {instance_uuid} has no domain")
        return self.doms[0]

    def errors(self, instance_uuid, action):
        return contextlib.nullcontext()

    def xml(self, instance_uuid, dom, inactive=False):
        return dom.xml(inactive)

    def connection(self):
        return self.conn


def _plugger(host: Host, timeout: float = 5.0) -> volumes.VolumePlugger:
    clock = helpers.Clock()
    return volumes.VolumePlugger(host, timeout, sleep=clock.sleep, clock=clock)


def test_attach_to_a_running_guest_is_live_and_persistent_and_idempotent():
    root = libvirt_disk.disk_xml(_info(str(uuid.uuid4())), "vda")
    dom = Dom(disks=(root,))
    host = Host(dom)
    plugger, volume = _plugger(host), _volume("vdb")
    assert plugger.attach("i1", volume) == "vdb"
    assert dom.calls == [("attach", volumes.AFFECT_CONFIG | volumes.AFFECT_LIVE, "vdb")]
    assert host.conn.secrets[libvirt_disk.secret_usage(volume.volume_id)].value == b"pw"
    assert plugger.attach("i1", volume) == "vdb"  # already there: nothing happens
    assert len(dom.calls) == 1
    plugged = ET.fromstring(dom.live[-1])
    assert plugged.find("source/initiator/iqn").get("name") == volume.initiator


def test_a_stopped_guest_gets_it_in_its_definition_on_a_free_device():
    config_drive = "<disk type='file' device='disk'><target dev='vdb' bus='virtio'/></disk>"
    dom = Dom(active=False, disks=(config_drive,))
    assert _plugger(Host(dom)).attach("i1", _volume("vdb")) == "vdc"
    assert dom.calls == [("attach", volumes.AFFECT_CONFIG, "vdc")] and dom.live == []


def test_detach_waits_for_the_guest_and_drops_the_unused_secret():
    volume = _volume()
    dom = Dom(disks=(libvirt_disk.disk_xml(dict(volume.connection_info), "vdb"),))
    host = Host(dom)
    libvirt_disk.ensure_secret(host.conn, dict(volume.connection_info))
    plugger = _plugger(host)
    plugger.detach("i1", volume.volume_id)
    assert [c[:2] for c in dom.calls] == [("detach", volumes.AFFECT_LIVE),
                                         ("detach", volumes.AFFECT_CONFIG)]
    assert dom.config == dom.live == []
    assert host.conn.secrets[libvirt_disk.secret_usage(volume.volume_id)].undefined
    plugger.detach("i1", volume.volume_id)  # gone already: nothing to do
    assert len(dom.calls) == 2


def test_a_guest_that_keeps_the_disk_fails_the_detach():
    volume = _volume()
    dom = Dom(disks=(libvirt_disk.disk_xml(dict(volume.connection_info), "vdb"),),
              releases=False)
    with pytest.raises(HypervisorError, match="did not release volume"):
        _plugger(Host(dom), timeout=1).detach("i1", volume.volume_id)


def test_a_secret_another_guest_uses_is_kept():
    volume = _volume()
    disk = libvirt_disk.disk_xml(dict(volume.connection_info), "vdb")
    first, second = Dom(disks=(disk,)), Dom(disks=(disk,))
    host = Host(first, second)
    libvirt_disk.ensure_secret(host.conn, dict(volume.connection_info))
    plugger = _plugger(host)
    plugger.detach("i1", volume.volume_id)
    assert not host.conn.secrets[libvirt_disk.secret_usage(volume.volume_id)].undefined
    host.doms.remove(second)
    assert plugger.sweep_secrets() == [volume.volume_id]


def test_no_domain_is_instance_not_found():
    with pytest.raises(InstanceNotFound):
        _plugger(Host()).attach("i1", _volume())


def test_a_volume_backed_definition_boots_from_the_volume():
    root, data = _volume("vda", boot_index=0), _volume("vdc")
    instance = dataclasses.replace(helpers.instance(), image=None, volumes=(data, root))
    plugger = _plugger(Host())
    xml = domain_xml.build(domain_xml.DomainSpec(
        uuid=instance.uuid, display_name="vm", project_id="p", memory_mib=64, vcpus=1,
        console_log="/tmp/log",
        disks=(domain_xml.Disk("/cd", "hdc", bus="ide", device="cdrom", driver_type="raw"),),
        virt_type="qemu", network_disks=tuple(plugger.disks(instance)), network_root=True))
    targets = [d.find("target").get("dev") for d in ET.fromstring(xml).findall("devices/disk")]
    assert targets == ["vda", "hdc", "vdc"]  # the root first: the guest names it vda
    with pytest.raises(InvalidInput, match="no disk to boot from"):
        domain_xml.build(domain_xml.DomainSpec(
            uuid=instance.uuid, display_name="vm", project_id="p", memory_mib=64, vcpus=1,
            console_log="/tmp/log", disks=(), virt_type="qemu", network_root=True))


def test_instance_from_spec_with_volumes():
    root = _volume("vda", boot_index=0)
    spec = {"uuid": helpers.instance().uuid, "name": "vm", "project_id": "p",
            "flavor": {"name": "f", "memory_mb": 64, "vcpus": 1}, "image": None,
            "volumes": [{"volume_id": root.volume_id, "device": "vda", "boot_index": 0,
                         "connection_info": dict(root.connection_info),
                         "initiator": root.initiator}]}
    instance = Instance.from_spec(spec)
    assert instance.image is None and instance.volumes[0].is_root
    spec["volumes"].append({**spec["volumes"][0], "boot_index": None, "device": "vdb"})
    with pytest.raises(InvalidInput, match="same volume volume_id twice"):
        Instance.from_spec(spec)
