"""The unmodified `openstack` CLI against a real stratus-api: flavors, key pairs, zones."""

from __future__ import annotations

import pytest

from controller.compute import keypairs
from tests.functional.image.stratus_cloud import CLIError


def test_flavors(stratus_cloud):
    cli = stratus_cloud.openstack
    created = cli("flavor", "create", "--ram", "64", "--disk", "1", "--vcpus", "1", "m1.nano")
    assert (created["ram"], created["disk"], created["vcpus"]) == (64, 1, 1)
    assert "m1.nano" in [row["Name"] for row in cli("flavor", "list")]
    cli("flavor", "set", "--property", "hw:cpu_policy=dedicated", "m1.nano", json_out=False)
    shown = cli("flavor", "show", "m1.nano")
    assert shown["properties"] == {"hw:cpu_policy": "dedicated"}
    cli("flavor", "unset", "--property", "hw:cpu_policy", "m1.nano", json_out=False)
    assert not cli("flavor", "show", "m1.nano")["properties"]
    with pytest.raises(CLIError, match="403|Forbidden|not authorized"):
        cli("flavor", "create", "--ram", "64", "--disk", "1", "--vcpus", "1", "evil",
            user="demo")

    stratus_cloud.add_user("other", "other-pw")
    cli("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", "--private",
        "m1.private")
    cli("flavor", "set", "--project", "demo", "m1.private", json_out=False)
    assert "m1.private" in [row["Name"] for row in cli("flavor", "list", user="demo")]
    assert cli("flavor", "show", "m1.private", user="demo")["name"] == "m1.private"
    assert "m1.private" not in [row["Name"] for row in cli("flavor", "list", user="other")]
    with pytest.raises(CLIError):
        cli("flavor", "show", "m1.private", user="other")

    cli("flavor", "delete", "m1.nano", "m1.private", json_out=False)
    assert not {"m1.nano", "m1.private"} & {row["Name"] for row in cli("flavor", "list")}


def test_keypairs(stratus_cloud, tmp_path):
    cli = stratus_cloud.openstack
    private = cli("keypair", "create", "k1", json_out=False)
    assert "PRIVATE KEY" in private
    _, public = keypairs.generate()
    key_file = tmp_path / "k2.pub"
    key_file.write_text(public + "\n")
    imported = cli("keypair", "create", "--public-key", str(key_file), "k2")
    assert imported["fingerprint"] == keypairs.ssh_fingerprint(public)
    assert {row["Name"] for row in cli("keypair", "list")} >= {"k1", "k2"}
    assert cli("keypair", "show", "k2")["fingerprint"] == imported["fingerprint"]
    cli("keypair", "delete", "k1", "k2", json_out=False)
    assert not {"k1", "k2"} & {row["Name"] for row in cli("keypair", "list")}


def test_zones_and_limits(stratus_cloud):
    cli = stratus_cloud.openstack
    zones = cli("availability", "zone", "list", "--compute")
    assert [(z["Zone Name"], z["Zone Status"]) for z in zones] == [("nova", "available")]
    limits = {row["Name"]: row["Value"] for row in cli("limits", "show", "--absolute")}
    # openstacksdk renames Nova's keys (maxTotalInstances -> max_total_instances).
    assert (limits["max_total_instances"], limits["max_total_cores"],
            limits["max_total_ram_size"], limits["max_total_keypairs"]) == (10, 20, 51200, 100)
    assert limits["total_instances_used"] == 0
