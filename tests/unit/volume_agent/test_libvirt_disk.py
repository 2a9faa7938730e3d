"""The network disk XML and the CHAP secret helpers for the compute agent."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from agents.volume import libvirt_disk
from agents.volume.exception import InvalidInput
from tests.unit.volume_agent.helpers import new_id


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


@pytest.mark.parametrize("info, dev", [
    ({"driver_volume_type": "rbd", "data": {}}, "vdb"),
    (None, "vdb'/><evil"),
    (None, "vdb"),
])
def test_bad_input_is_refused(info, dev):
    volume_id = new_id()
    if info is None and dev == "vdb":
        info = _info(volume_id, target_iqn="bad'/><x")
    with pytest.raises(InvalidInput):
        libvirt_disk.disk_xml(info or _info(volume_id), dev)


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
