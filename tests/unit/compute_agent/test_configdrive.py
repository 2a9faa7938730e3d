"""Config drive: the metadata tree, and a real ISO built from it (xorriso/genisoimage)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess

import pytest

from agents.compute import configdrive
from agents.compute.exception import ConfigDriveError
from tests.unit.compute_agent import helpers

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0cmF0dXM alice@stratus"


def _instance(**overrides):
    fields = {"name": "Web Server #1", "config_drive": True, "user_data": b"#!/bin/sh\necho hi\n",
              "public_keys": {"alice": KEY}, "metadata": {"role": "web"},
              "vifs": (helpers.vif(0),)}
    fields.update(overrides)
    return helpers.instance(**fields)


def test_layout_under_latest_and_2012_08_10():
    tree = configdrive.files(_instance())
    assert sorted(tree) == sorted(f"openstack/{version}/{name}"
                                  for version in ("latest", "2012-08-10")
                                  for name in ("meta_data.json", "network_data.json",
                                               "user_data"))
    assert tree["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
    assert tree["openstack/latest/meta_data.json"] == tree["openstack/2012-08-10/meta_data.json"]


def test_no_user_data_file_without_user_data():
    assert not any(p.endswith("user_data") for p in configdrive.files(_instance(user_data=None)))


def test_meta_data_fields():
    inst = _instance()
    md = json.loads(configdrive.files(inst, random_seed=b"\0" * 4)[
        "openstack/latest/meta_data.json"])
    assert md["uuid"] == inst.uuid
    assert md["name"] == "Web Server #1"
    assert md["hostname"] == "web-server-1"  # derived: DNS-safe
    assert md["availability_zone"] == "nova"
    assert md["project_id"] == helpers.PROJECT_ID
    assert md["public_keys"] == {"alice": KEY}
    assert md["keys"] == [{"name": "alice", "type": "ssh", "data": KEY}]
    assert md["meta"] == {"role": "web"}
    assert md["launch_index"] == 0
    assert base64.b64decode(md["random_seed"]) == b"\0" * 4
    explicit = configdrive.meta_data(_instance(hostname="db.example.org"))
    assert explicit["hostname"] == "db.example.org"
    assert len(base64.b64decode(explicit["random_seed"])) == 512


def test_network_data_one_dhcp_link_per_port():
    inst = _instance(vifs=(helpers.vif(0), helpers.vif(1, mtu=None)))
    nd = configdrive.network_data(inst)
    assert [link["ethernet_mac_address"] for link in nd["links"]] == [
        "fa:16:3e:00:00:00", "fa:16:3e:00:00:01"]
    assert nd["links"][0] == {"id": inst.vifs[0].devname, "vif_id": inst.vifs[0].id,
                              "type": "ovs", "ethernet_mac_address": "fa:16:3e:00:00:00",
                              "mtu": 1450}
    assert "mtu" not in nd["links"][1]
    assert nd["networks"][1] == {"id": "network1", "link": inst.vifs[1].devname,
                                 "type": "ipv4_dhcp", "network_id": inst.vifs[1].network_id}
    assert nd["services"] == []
    assert configdrive.network_data(_instance(vifs=())) == {
        "links": [], "networks": [], "services": []}


def test_iso_argv_is_a_list_with_the_label(tmp_path):
    calls = []

    def fake_execute(argv):
        calls.append(argv)
        with open(argv[argv.index("-o") + 1], "wb") as out:
            out.write(b"iso")
        return ""

    out = tmp_path / "disk.config"
    with pytest.raises(ConfigDriveError):
        configdrive.iso_argv("sh", "/src", "/out")
    for tool in ("xorriso", "genisoimage"):
        argv = configdrive.iso_argv(tool, "/src", "/out.iso")
        assert argv[0] == tool and argv[-1] == "/src"
        assert argv[argv.index("-V") + 1] == "config-2"
        assert "-r" in argv and "-J" in argv  # long lower-case names survive
    if shutil.which("xorriso"):
        configdrive.write_iso({"openstack/latest/x": b"1"}, str(out), tool="xorriso",
                              execute=fake_execute)
        assert out.read_bytes() == b"iso" and calls[0][0] == "xorriso"
        assert os.listdir(tmp_path) == ["disk.config"]  # staging directory removed


def test_paths_cannot_escape_the_drive(tmp_path):
    if not (shutil.which("xorriso") or shutil.which("genisoimage")):
        pytest.skip("no ISO tool installed")
    with pytest.raises(ConfigDriveError):
        configdrive.write_iso({"../../etc/evil": b"x"}, str(tmp_path / "cd.iso"))


def _volume_id(iso: bytes) -> str:
    # ISO9660 primary volume descriptor: sector 16; volume identifier at bytes 40..72.
    pvd = iso[16 * 2048:17 * 2048]
    assert pvd[1:6] == b"CD001"
    return pvd[40:72].decode().strip()


@pytest.mark.parametrize("tool", ["xorriso", "genisoimage"])
def test_real_iso_has_label_and_files(tmp_path, tool):
    if not shutil.which(tool) or not shutil.which("xorriso"):
        pytest.skip(f"{tool} (and xorriso, to read the result) not installed")
    inst = _instance()
    out = tmp_path / "disk.config"
    configdrive.build(inst, str(out), tool=tool)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it carries user data
    assert _volume_id(out.read_bytes()) == "config-2"
    extracted = tmp_path / "extracted"
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(out), "-extract", "/",
                    str(extracted)], check=True, capture_output=True)
    found = sorted(str(p.relative_to(extracted)) for p in extracted.rglob("*") if p.is_file())
    assert found == sorted(configdrive.files(inst))
    md = json.loads((extracted / "openstack/latest/meta_data.json").read_text())
    assert md["uuid"] == inst.uuid
    assert (extracted / "openstack/2012-08-10/user_data").read_bytes() == inst.user_data


def test_missing_tool_says_what_to_install(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigDriveError, match="apt-get install xorriso"):
        configdrive.find_tool()
