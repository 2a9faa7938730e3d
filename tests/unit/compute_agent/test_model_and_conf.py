"""Validation of what the manager hands the driver, names and paths, and [compute]."""

from __future__ import annotations

import pytest
from oslo_config import cfg

from agents.compute import conf as compute_conf
from agents.compute import model, paths
from agents.compute.exception import InvalidInput
from tests.unit.compute_agent import helpers


@pytest.mark.parametrize("bad", [
    {"uuid": "../../etc"},
    {"hostname": "bad host"},
    {"hostname": "-leading"},
    {"vifs": (helpers.vif(0), helpers.vif(0))},
])
def test_instance_validation(bad):
    with pytest.raises(InvalidInput):
        helpers.instance(**bad)


def test_instance_normalises():
    inst = helpers.instance(uuid="{8D3F0C3E-6B1D-4C2A-9F0E-1234567890AB}", user_data="#!/bin/sh")
    assert inst.uuid == "8d3f0c3e-6b1d-4c2a-9f0e-1234567890ab"
    assert inst.user_data == b"#!/bin/sh"


@pytest.mark.parametrize("bad", [
    {"mac": "fa:16:3e:00:00"},
    {"mac": "fa:16:3e:00:00:0g"},
    {"type": "vhostuser"},
    {"bridge": "br-int; rm -rf /"},
    {"bridge": "a-very-long-bridge-name"},
    {"mtu": 9},
    {"network_id": "net1"},
])
def test_vif_validation(bad):
    with pytest.raises(InvalidInput):
        helpers.vif(0, **bad)


def test_vif_tap_name_follows_the_port():
    port = helpers.vif(3, mac="FA:16:3E:AA:BB:CC")
    assert port.devname == "tap00000003-aa" and len(port.devname) <= 15
    assert port.mac == "fa:16:3e:aa:bb:cc"


def test_image_and_flavor_validation():
    with pytest.raises(InvalidInput):
        model.ImageRef("x")
    with pytest.raises(InvalidInput, match="not bootable"):
        model.ImageRef(helpers.IMAGE_ID, disk_format="vmdk")
    with pytest.raises(InvalidInput):
        model.ImageRef(helpers.IMAGE_ID, os_hash_algo="crc32", os_hash_value="00")
    with pytest.raises(InvalidInput):
        model.Flavor("zero", 0, 1)


def test_domain_names_round_trip_and_foreign_names_are_not_ours():
    uuid = "8d3f0c3e-6b1d-4c2a-9f0e-1234567890ab"
    assert paths.domain_name(uuid) == f"instance-{uuid}"
    assert paths.uuid_from_domain_name(f"instance-{uuid}") == uuid
    for foreign in ("instance-1", f"instance-{uuid.upper()}", "vm1", f"x-instance-{uuid}"):
        assert paths.uuid_from_domain_name(foreign) is None


def test_instance_dirs(tmp_path):
    uuid = "8d3f0c3e-6b1d-4c2a-9f0e-1234567890ab"
    files = paths.InstancePaths(str(tmp_path), uuid)
    files.ensure_directory()
    assert oct((tmp_path / uuid).stat().st_mode & 0o777) == oct(paths.DIR_MODE)
    (tmp_path / "_base").mkdir()
    (tmp_path / "notes.txt").write_text("operator file")
    assert paths.list_instance_dirs(str(tmp_path)) == [uuid]
    assert paths.list_instance_dirs(str(tmp_path / "missing")) == []


def test_options_defaults_bounds_and_listing():
    conf = compute_conf.make()
    assert conf.compute.instances_path == "/var/lib/stratus/instances"
    assert conf.compute.libvirt_uri == "qemu:///system"
    with pytest.raises(ValueError):
        conf.set_override("virt_type", "xen", group="compute")
    with pytest.raises(ValueError):
        conf.set_override("shutdown_timeout", -1, group="compute")
    groups = dict(compute_conf.list_opts())
    assert "compute" in groups and "DEFAULT" in groups
    assert all(opt.help for opt in groups["compute"])
    assert isinstance(groups["compute"][0], cfg.Opt)
