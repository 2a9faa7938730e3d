"""A real stratus-api (gunicorn, subprocess) on a free port, driven by the real clients.

StratusCloud keeps one server, SQLite database, Fernet keys and image store in a temp
dir, bootstrapped with admin/pw (project admin) and demo/demo (project demo).
`cloud.openstack(...)` runs the unmodified `openstack` CLI as a user and returns its
parsed `-f json` output; `cloud.sdk(...)` gives an openstacksdk Connection.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.functional import support

USERS = {"admin": ("pw", "admin"), "demo": ("demo", "demo")}


def _tool(name: str) -> str:
    """A console script from this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CLIError(Exception):
    """The openstack CLI exited non-zero; stderr says why."""

    def __init__(self, args: tuple[str, ...], result: subprocess.CompletedProcess):
        self.stderr = result.stderr
        super().__init__(f"openstack {' '.join(args)} failed ({result.returncode}): "
                         f"{result.stderr.strip()[-2000:]}")


class StratusCloud:
    """A running API server and the way to drive it as each user."""

    def __init__(self, root: Path, workers: int = 2):
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store_dir = root / "images"
        self.config = root / "stratus.conf"
        self.users = dict(USERS)
        # Casts from this server never reach another test's (or the running cloud's)
        # daemons: a private exchange and private topics.
        self.messaging = support.isolated_rpc()
        self.messaging["messaging"]["notification_driver"] = "noop"
        self.config.write_text(f"""
[DEFAULT]
state_path = {root}
[database]
connection = sqlite:///{root}/stratus.sqlite
[fernet_tokens]
key_repository = {root}/fernet-keys
[api]
bind_host = 127.0.0.1
bind_port = {self.port}
public_endpoint = {self.url}
workers = {workers}
[identity]
password_hash_rounds = 4
[image]
filesystem_store_datadir = {self.store_dir}
""" + support.ini(self.messaging))
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run([_tool("stratus-manage"), "--config-file", str(self.config), *args],
                       check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self.manage("db", "sync")
        self.manage("fernet", "setup")
        self.manage("bootstrap", "--admin-password", "pw", "--demo-password", "demo",
                    "--public-url", self.url)
        log = open(self.root / "api.log", "wb")  # open as long as the server runs
        self.process = subprocess.Popen(
            [_tool("stratus-api"), "--config-file", str(self.config)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stratus-api exited: {self.log_tail()}")
            try:
                urllib.request.urlopen(f"{self.url}/image/versions", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"stratus-api did not answer: {self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, size: int = 4000) -> str:
        return (self.root / "api.log").read_text(errors="replace")[-size:]

    def env(self, user: str = "admin") -> dict[str, str]:
        password, project = self.users[user]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_AUTH_URL=f"{self.url}/identity/v3", OS_IDENTITY_API_VERSION="3",
                   OS_USERNAME=user, OS_PASSWORD=password, OS_PROJECT_NAME=project,
                   OS_USER_DOMAIN_ID="default", OS_PROJECT_DOMAIN_ID="default",
                   OS_INTERFACE="public", NO_PROXY="127.0.0.1,localhost",
                   no_proxy="127.0.0.1,localhost")
        return env

    def openstack(self, *args: str, user: str = "admin", json_out: bool = True) -> Any:
        """Run the real CLI; return its JSON output (or text when json_out is False)."""
        argv = [_tool("openstack"), *args] + (["-f", "json"] if json_out else [])
        result = subprocess.run(argv, env=self.env(user), capture_output=True, text=True,
                                timeout=600)
        if result.returncode != 0:
            raise CLIError(args, result)
        return json.loads(result.stdout) if json_out and result.stdout.strip() \
            else result.stdout

    def sdk(self, user: str = "admin"):
        """An openstacksdk Connection authenticated as user."""
        import openstack

        password, project = self.users[user]
        return openstack.connect(
            auth_url=f"{self.url}/identity/v3", username=user, password=password,
            project_name=project, user_domain_id="default", project_domain_id="default",
            identity_api_version="3", interface="public", load_yaml_config=False,
            load_envvars=False)

    def token(self, user: str = "admin") -> str:
        return self.sdk(user).session.get_token()

    def add_user(self, name: str, password: str) -> None:
        """A new project `name` with a member user `name` (as admin, through the CLI)."""
        self.openstack("project", "create", name)
        self.openstack("user", "create", "--project", name, "--password", password, name)
        self.openstack("role", "add", "--project", name, "--user", name, "member",
                       json_out=False)
        self.users[name] = (password, name)

    def api_pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        assert self.process is not None
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids
