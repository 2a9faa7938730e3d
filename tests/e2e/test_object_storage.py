"""Object storage end to end with the real, unmodified clients: python-swiftclient's
``swift`` and the ``openstack`` CLI, as the demo user of the all-in-one cloud.

Needs the cloud's catalog to hold the object-store endpoint and clouds.yaml to hold
``stratus-demo`` (tests/e2e/conftest.py skips everything when clouds.yaml is absent).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid

import pytest
import yaml

CLOUDS = os.environ.get("OS_CLIENT_CONFIG_FILE", "/etc/openstack/clouds.yaml")
CLOUD = os.environ.get("OS_CLOUD", "stratus-demo")
BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.e2e


def _tool(name: str) -> str:
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else (shutil.which(name) or name)


@pytest.fixture(scope="module")
def swift_env():
    """python-swiftclient does not read clouds.yaml: hand it the same credentials."""
    with open(CLOUDS) as handle:
        auth = yaml.safe_load(handle)["clouds"][CLOUD]["auth"]
    env = dict(os.environ)
    env.update({
        "OS_AUTH_URL": auth["auth_url"].rstrip("/") + ("" if auth["auth_url"].rstrip("/")
                                                       .endswith("/v3") else "/v3"),
        "OS_USERNAME": auth["username"], "OS_PASSWORD": auth["password"],
        "OS_PROJECT_NAME": auth["project_name"],
        "OS_USER_DOMAIN_NAME": auth.get("user_domain_name", "Default"),
        "OS_PROJECT_DOMAIN_NAME": auth.get("project_domain_name", "Default"),
        "OS_IDENTITY_API_VERSION": "3", "ST_AUTH_VERSION": "3",
    })
    if "user_domain_id" in auth:
        env["OS_USER_DOMAIN_ID"] = auth["user_domain_id"]
    if "project_domain_id" in auth:
        env["OS_PROJECT_DOMAIN_ID"] = auth["project_domain_id"]
    env.pop("OS_CLOUD", None)
    return env


def swift(env, *args, cwd=None) -> str:
    proc = subprocess.run([_tool("swift"), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"swift {args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_swift_client_upload_download_list_stat_delete(swift_env, tmp_path):
    container = f"e2e-swift-{uuid.uuid4().hex[:8]}"
    src = tmp_path / "src"
    src.mkdir()
    files = {"small.txt": os.urandom(100), "dir/medium.bin": os.urandom(300000),
             "large.bin": os.urandom(3 * 1048576 + 7)}
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    swift(swift_env, "upload", container, "small.txt", "dir/medium.bin", cwd=src)
    # a segmented upload: swiftclient makes it a static large object (from /info)
    swift(swift_env, "upload", "--segment-size", "1048576", container, "large.bin", cwd=src)
    listing = swift(swift_env, "list", container).split()
    assert sorted(listing) == sorted(files)
    stat = swift(swift_env, "stat", container)
    assert "Objects: 3" in stat
    assert "Manifest" in swift(swift_env, "stat", container, "large.bin") or \
        "large.bin" in swift(swift_env, "stat", container, "large.bin")
    dst = tmp_path / "dst"
    dst.mkdir()
    swift(swift_env, "download", container, cwd=dst)
    for name, data in files.items():
        got = (dst / name).read_bytes()
        assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest(), name
    swift(swift_env, "delete", container)
    assert container not in swift(swift_env, "list").split()


def test_openstack_container_and_object_commands(demo_cli, name, tmp_path):
    container = name
    demo_cli.run("container", "create", container)
    assert container in [c["Name"] for c in demo_cli.json("container", "list")]
    data = os.urandom(50000)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    demo_cli.run("object", "create", "--name", "blob.bin", container, str(source))
    assert [o["Name"] for o in demo_cli.json("object", "list", container)] == ["blob.bin"]
    out = tmp_path / "saved.bin"
    demo_cli.run("object", "save", "--file", str(out), container, "blob.bin")
    assert out.read_bytes() == data
    demo_cli.run("object", "delete", container, "blob.bin")
    assert demo_cli.json("object", "list", container) == []
    demo_cli.run("container", "delete", container)
    assert container not in [c["Name"] for c in demo_cli.json("container", "list")]
