"""The all-in-one cloud's image service, through the unmodified CLI."""

from __future__ import annotations


def test_stratus_tiny_is_public_and_active(demo_cli):
    images = demo_cli.json("image", "list")
    tiny = [image for image in images if image["Name"] == "stratus-tiny"]
    assert tiny and tiny[0]["Status"] == "active"
    details = demo_cli.json("image", "show", "stratus-tiny")
    assert details["visibility"] == "public" and details["disk_format"] == "qcow2"


def test_member_uploads_private_image_and_reads_it_back(demo_cli, admin_cli, name, tmp_path):
    source = tmp_path / "disk.raw"
    source.write_bytes(b"stratus" * 70_000)
    demo_cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare",
                  "--file", str(source), name)
    target = tmp_path / "back.raw"
    demo_cli.run("image", "save", "--file", str(target), name)
    assert target.read_bytes() == source.read_bytes()
    # Another project's admin sees it (admin sees all); the image is private to demo.
    assert demo_cli.json("image", "show", name)["visibility"] in ("private", "shared")
    demo_cli.run("image", "delete", name)
