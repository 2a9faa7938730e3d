"""End-to-end tests run against the all-in-one cloud that tools/stack.sh brought up.

They drive it only through the unmodified `openstack` CLI and openstacksdk, with the
clouds in /etc/openstack/clouds.yaml, exactly as an operator would.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

CLOUDS = pathlib.Path(os.environ.get("OS_CLIENT_CONFIG_FILE", "/etc/openstack/clouds.yaml"))


def pytest_collection_modifyitems(config, items):
    if CLOUDS.exists():
        return
    reason = f"{CLOUDS} not found: run tools/stack.sh first"
    for item in items:
        if "/e2e/" in str(item.fspath):
            if os.environ.get("CI"):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


class Cli:
    """Runs the unmodified `openstack` CLI against one cloud."""

    def __init__(self, cloud: str):
        self.cloud = cloud
        self.binary = shutil.which("openstack") or "openstack"

    def run(self, *args: str, check: bool = True, cloud: str | None = None,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **(extra_env or {})}
        argv = [self.binary]
        if cloud is not False:
            argv += ["--os-cloud", cloud or self.cloud]
        proc = subprocess.run(argv + list(args), capture_output=True, text=True, env=env,
                              timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def json(self, *args: str, **kw):
        return json.loads(self.run(*args, "-f", "json", **kw).stdout)


@pytest.fixture(scope="session")
def admin_cli() -> Cli:
    return Cli("stratus-admin")


@pytest.fixture(scope="session")
def demo_cli() -> Cli:
    return Cli("stratus-demo")


@pytest.fixture
def name() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"
