"""The network disk XML, the CHAP secret helpers and the domain document readers."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest

from agents.compute import libvirt_disk
from agents.compute.exception import InvalidInput


def new_id() -> str:
    return str(uuid.uuid4())


def _info(volume_id, **data):
    base = {"target_iqn": f"iqn.2026-12.org.stratus:volume-{volume_id}",
            "target_portal": "192.0.2.2:3260", "target_lun": 1, "auth_method": "CHAP",
            "auth_username": f"volume-{volume_id}", "auth_password": "pw",
            "volume_id": volume_id, "access_mode": "rw"}
    base.update(data)
    return {"driver_volume_type": "iscsi", "data": base}


def test_disk_xml_names_target_lun_host_and_secret():
    volume_id = new_id()
    disk = ET.fromstring(libvirt_disk.disk_xml(_info(volume_id), "vdb"))
    assert disk.get("type") == "network" and disk.get("device") == "disk"
    source = disk.find("source")
    assert source.get("protocol") == "iscsi"
    assert source.get("name") == f"iqn.2026-12.org.stratus:volume-{volume_id}/1"
    assert (source.find("host").get("name"), source.find("host").get("port")) == \
        ("192.0.2.2", "3260")
    auth = source.find("auth")
    assert auth.get("username") == f"volume-{volume_id}"
    assert auth.find("secret").get("usage") == f"stratus-volume-{volume_id}"
    assert disk.find("target").get("dev") == "vdb" and disk.find("readonly") is None
    assert disk.find("serial").text == volume_id[:20]
    assert "pw" not in libvirt_disk.disk_xml(_info(volume_id), "vdb")


def test_readonly_ipv6_and_no_auth():
    volume_id = new_id()
    xml = libvirt_disk.disk_xml(_info(volume_id, access_mode="ro", auth_method=None,
                                      target_portal="[2001:db8::2]:3260"), "vdc")
    disk = ET.fromstring(xml)
    assert disk.find("readonly") is not None and disk.find("source/auth") is None
    assert disk.find("source/host").get("name") == "2001:db8::2"


def test_initiator_name_is_given_to_qemu():
    volume_id = new_id()
    disk = ET.fromstring(libvirt_disk.disk_xml(_info(volume_id), "vdb",
                                               initiator="iqn.2010-10.org.stratus:h1"))
    assert disk.find("source/initiator/iqn").get("name") == "iqn.2010-10.org.stratus:h1"
    with pytest.raises(InvalidInput):
        libvirt_disk.disk_xml(_info(volume_id), "vdb", initiator="h1'/><x")


@pytest.mark.parametrize("info, dev", [
    ({"driver_volume_type": "rbd", "data": {}}, "vdb"),
    (None, "vdb'/><evil"),
    (None, "vdb"),
    ({"driver_volume_type": "iscsi", "data": {"volume_id": "x"}}, "vdb"),
    ("portal", "vdb"),
])
def test_bad_input_is_refused(info, dev):
    volume_id = new_id()
    if info is None and dev == "vdb":
        info = _info(volume_id, target_iqn="bad'/><x")
    if info == "portal":
        info = _info(volume_id, target_portal="example.com:3260")
    with pytest.raises(InvalidInput):
        libvirt_disk.disk_xml(info or _info(volume_id), dev)


def test_domain_documents_are_read_back():
    root_id, data_id = new_id(), new_id()
    domain = ("<domain><devices>"
              "<disk type='file' device='disk'><source file='/x/disk'/>"
              "<target dev='vda' bus='virtio'/></disk>"
              + libvirt_disk.disk_xml(_info(root_id), "vdb")
              + libvirt_disk.disk_xml(_info(data_id), "vdd")
              + "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
              "</devices></domain>")
    found = libvirt_disk.volume_disks(domain)
    assert {k: v[0] for k, v in found.items()} == {root_id: "vdb", data_id: "vdd"}
    assert ET.fromstring(found[data_id][1]).find("target").get("dev") == "vdd"
    assert libvirt_disk.target_devs(domain) == {"vda", "vdb", "vdd", "hdc"}
    assert libvirt_disk.volume_disks("not xml") == {} and libvirt_disk.target_devs("<") == set()
    used = libvirt_disk.target_devs(domain)
    assert libvirt_disk.free_dev(used, "vdb") == "vdc"
    assert libvirt_disk.free_dev(used, "vde") == "vde"
    assert libvirt_disk.free_dev(used, "sdb") == "vdc"
    with pytest.raises(InvalidInput):
        libvirt_disk.free_dev([f"vd{c}" for c in "abcdefghijklmnopqrstuvwxyz"], None)


def test_secret_usage_names_the_volume():
    volume_id = new_id()
    usage = libvirt_disk.secret_usage(volume_id)
    assert usage == f"stratus-volume-{volume_id}"
    assert libvirt_disk.volume_of_usage(usage) == volume_id
    assert libvirt_disk.volume_of_usage("stratus-volume-nope") is None
    assert libvirt_disk.volume_of_usage("ceph-client") is None


class ListedSecret:
    def __init__(self, usage):
        self.usage = usage

    def usageType(self):  # noqa: N802
        return 3

    def usageID(self):  # noqa: N802
        return self.usage


class FakeSecret:
    def __init__(self, xml):
        self.xml, self.value, self.undefined = xml, None, False

    def setValue(self, value):  # noqa: N802 - libvirt's name
        self.value = value

    def undefine(self):
        self.undefined = True


class FakeConn:
    def __init__(self):
        self.secrets = {}

    def listAllSecrets(self, flags):  # noqa: N802
        return [ListedSecret(usage) for usage in self.secrets]

    def secretLookupByUsage(self, usage_type, usage):  # noqa: N802
        assert usage_type == 3
        if usage not in self.secrets:
            raise RuntimeError("no secret")  # libvirt.libvirtError in real life
        return self.secrets[usage]

    def secretDefineXML(self, xml):  # noqa: N802
        secret = FakeSecret(xml)
        usage = ET.fromstring(xml).find("usage/target").text
        self.secrets[usage] = secret
        return secret


def test_secret_is_defined_once_and_updated():
    conn, volume_id = FakeConn(), new_id()
    usage = libvirt_disk.ensure_secret(conn, _info(volume_id))
    secret = conn.secrets[usage]
    assert secret.value == b"pw" and "private='yes'" in secret.xml
    libvirt_disk.ensure_secret(conn, _info(volume_id, auth_password="new"))
    assert len(conn.secrets) == 1 and secret.value == b"new"
    libvirt_disk.remove_secret(conn, volume_id)
    assert secret.undefined
    libvirt_disk.remove_secret(conn, new_id())  # nothing to do
    assert libvirt_disk.ensure_secret(conn, _info(volume_id, auth_method=None)) is None


def test_our_secrets_are_listed():
    conn, volume_id = FakeConn(), new_id()
    libvirt_disk.ensure_secret(conn, _info(volume_id))
    conn.secrets["other-usage"] = FakeSecret("<secret/>")
    assert libvirt_disk.our_secrets(conn) == [volume_id]
