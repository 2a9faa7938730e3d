"""The all-in-one cloud's compute API, through the unmodified CLI."""

from __future__ import annotations


def test_stack_flavors_are_visible_to_members(demo_cli):
    flavors = {f["Name"]: f for f in demo_cli.json("flavor", "list")}
    assert {"m1.nano", "m1.tiny", "m1.small"} <= set(flavors)
    assert flavors["m1.nano"]["RAM"] == 128


def test_member_keypair_lifecycle(demo_cli, name, tmp_path):
    created = demo_cli.run("keypair", "create", name).stdout
    assert "PRIVATE KEY" in created
    assert name in [k["Name"] for k in demo_cli.json("keypair", "list")]
    demo_cli.run("keypair", "delete", name)
