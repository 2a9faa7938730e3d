"""Compute project isolation, quotas and bad input, against the all-in-one cloud.

Nothing here boots a guest: what is refused is refused before a server exists, and the
server that isolation needs is an admin's that is deleted at once.
"""

from __future__ import annotations

import os
import uuid

import openstack
import pytest

from tests.e2e.conftest import CLOUDS


@pytest.fixture(scope="module")
def quota_project(admin_cli):
    """A fresh project the admin is a member of, with nothing in it."""
    name = f"e2e-quota-{uuid.uuid4().hex[:6]}"
    admin_cli.run("project", "create", "--domain", "default", name)
    admin_cli.run("role", "add", "--project", name, "--user", "admin", "member")
    yield name
    admin_cli.run("project", "delete", name, check=False)


def _in_project(admin_cli, project: str, *args: str, check: bool = True):
    return admin_cli.run("--os-project-name", project, "--os-project-domain-id", "default",
                         *args, check=check)


def _create(admin_cli, project: str, name: str):
    return _in_project(admin_cli, project, "server", "create", "--image", "stratus-tiny",
                       "--flavor", "m1.nano", "--nic", "none", name, check=False)


def test_demo_sees_only_its_own_servers_and_images(demo_cli, admin_cli, tmp_path):
    image_file = tmp_path / "private.img"
    image_file.write_bytes(b"\0" * 4096)
    image = admin_cli.json("image", "create", "--file", str(image_file), "--disk-format",
                           "raw", "--container-format", "bare", "--private",
                           f"e2e-private-{uuid.uuid4().hex[:6]}")
    server = admin_cli.json("server", "create", "--image", "stratus-tiny", "--flavor",
                            "m1.nano", "--nic", "none", f"e2e-admins-{uuid.uuid4().hex[:6]}")
    try:
        assert server["id"] not in [s["ID"] for s in demo_cli.json("server", "list")]
        shown = demo_cli.run("server", "show", server["id"], check=False)
        assert shown.returncode != 0 and "No Server found" in shown.stderr
        refused = demo_cli.run("server", "delete", server["id"], check=False)
        assert refused.returncode != 0
        assert image["id"] not in [i["ID"] for i in demo_cli.json("image", "list")]
        assert demo_cli.run("image", "show", image["id"], check=False).returncode != 0
        # The member cannot widen its view either.
        everyone = demo_cli.run("server", "list", "--all-projects", "-f", "json", check=False)
        assert everyone.returncode != 0 or server["id"] not in everyone.stdout
        assert server["id"] in [s["ID"] for s in admin_cli.json("server", "list",
                                                                 "--all-projects")]
    finally:
        admin_cli.run("server", "delete", "--wait", server["id"], check=False)
        admin_cli.run("image", "delete", image["id"], check=False)


@pytest.mark.parametrize(("limits", "resource"), [
    (("--instances", "0"), "instances"),
    (("--instances", "10", "--cores", "0"), "cores"),
    (("--instances", "10", "--cores", "10", "--ram", "64"), "ram"),
])
def test_over_quota_is_refused_with_the_nova_error(admin_cli, quota_project, limits,
                                                    resource):
    admin_cli.run("quota", "set", *limits, quota_project)
    name = f"e2e-over-{resource}"
    refused = _create(admin_cli, quota_project, name)
    assert refused.returncode != 0
    assert "403" in refused.stderr, refused.stderr
    assert f"Quota exceeded for {resource}" in refused.stderr, refused.stderr
    listed = _in_project(admin_cli, quota_project, "server", "list", "-f", "value", "-c",
                         "Name")
    assert name not in listed.stdout.split()  # nothing half-made


@pytest.fixture(scope="module")
def sdk_demo():
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(CLOUDS))
    conn = openstack.connect(cloud="stratus-demo")
    yield conn
    conn.close()


def _post_server(conn, **server) -> tuple[int, dict]:
    response = conn.compute.post("/servers", json={"server": server}, microversion="2.37",
                                 raise_exc=False)
    return response.status_code, response.json()


@pytest.fixture(scope="module")
def valid_server(sdk_demo):
    image = sdk_demo.image.find_image("stratus-tiny", ignore_missing=False)
    flavor = sdk_demo.compute.find_flavor("m1.nano", ignore_missing=False)
    return {"name": "e2e-bad", "imageRef": image.id, "flavorRef": flavor.id,
            "networks": "none"}


@pytest.mark.parametrize(("change", "words"), [
    ({"flavorRef": "no-such-flavor"}, "Flavor"),
    ({"imageRef": str(uuid.uuid4())}, "Image"),
    ({"imageRef": "not-a-uuid"}, "image"),
    ({"name": ""}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "   "}, "name"),
    ({"metadata": {"k" * 256: "v"}}, "metadata"),
    ({"metadata": {"key": "v" * 256}}, "metadata"),
    ({"metadata": {"key": 5}}, "metadata"),
    ({"min_count": 0}, "min_count"),
    ({"availability_zone": "no-such-zone"}, "availability zone"),
])
def test_bad_input_gets_a_nova_400(sdk_demo, valid_server, change, words):
    status, body = _post_server(sdk_demo, **{**valid_server, **change})
    assert status == 400, body
    fault = body["badRequest"]
    assert fault["code"] == 400 and words.lower() in fault["message"].lower(), fault
    names = [s.name for s in sdk_demo.compute.servers()]
    assert "e2e-bad" not in names
