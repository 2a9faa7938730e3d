"""The console proxy as a real process on free ports, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from controller.db import base as db_base
from controller.db import migration
from controller.db.base import utcnow
from controller.db.models.servers import ConsoleAuthToken, Instance

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeConsole:
    """A TCP server that greets like a VNC server and echoes what it receives."""

    def __init__(self, greeting: bytes):
        self.greeting = greeting
        self.received: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(self.greeting)
            while data := conn.recv(4096):
                self.received.append(data)
                conn.sendall(b"echo:" + data)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def db(database_url) -> Iterator[db_base.Database]:
    database = db_base.Database(database_url)
    migration.sync(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def proxy(db, tmp_path_factory) -> Iterator[dict]:
    """The proxy daemon on free ports, logging to a file the tests read."""
    workdir = tmp_path_factory.mktemp("console-proxy")
    ports = {"novnc": free_port(), "serial": free_port()}
    config = workdir / "stratus.conf"
    config.write_text(
        f"[DEFAULT]\nhost = console-test\n"
        f"[logging]\nlog_dir = {workdir}\n"
        f"[database]\nconnection = {db.url}\n"
        f"[console]\nnovncproxy_host = 127.0.0.1\nnovncproxy_port = {ports['novnc']}\n"
        f"serialproxy_host = 127.0.0.1\nserialproxy_port = {ports['serial']}\n"
        f"novnc_web = /usr/share/novnc\nallowed_origins = console.example.org\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "controller.console.server", "--config-file", str(config)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        for port in ports.values():
            while True:
                assert process.poll() is None, process.stderr.read().decode()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the proxy never listened"
                    time.sleep(0.1)
        yield {"ports": ports, "log": workdir / "stratus-console-proxy.log"}
    finally:
        process.terminate()
        assert process.wait(15) == 0


@pytest.fixture(scope="module")
def instance_uuid(db) -> str:
    value = str(uuid.uuid4())
    with db.session() as session:
        session.add(Instance(uuid=value, project_id="p1", user_id="u1", display_name="vm",
                             flavor_id="1", flavor={}))
    return value


@pytest.fixture
def consoles() -> Iterator[list[FakeConsole]]:
    servers: list[FakeConsole] = []
    yield servers
    for server in servers:
        server.close()


def make_token(db, instance_uuid: str, port: int, console_type: str = "novnc",
           ttl: int = 60) -> str:
    token = secrets.token_urlsafe(24)
    with db.session() as session:
        session.add(ConsoleAuthToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), console_type=console_type,
            host="127.0.0.1", port=port, instance_uuid=instance_uuid,
            expires_at=utcnow() + datetime.timedelta(seconds=ttl)))
    return token
