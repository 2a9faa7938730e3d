"""A throw-away object-storage cluster for tests: 4 storage nodes (one disk each,
zones 1,1,2,2), a 3-replica ring, a proxy, and a stub identity API, all on free
loopback ports under one temp directory. Servers run as subprocesses in their own
process groups and are killed by group id on teardown."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any

from common.ring.builder import RingBuilder
from common.ring.serialization import write_ring

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
ZONES = (1, 1, 2, 2)
HASH_SUFFIX = "test-suffix"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StubIdentity:
    """Answers GET /identity/v3/auth/tokens for the tokens it was given."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.calls = 0
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                stub.calls += 1
                token = self.headers.get("X-Subject-Token", "")
                doc = stub.tokens.get(token)
                if not self.path.startswith("/identity/v3/auth/tokens") or doc is None:
                    body = b'{"error": {"code": 404}}'
                    self.send_response(404)
                else:
                    body = json.dumps({"token": doc}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, token: str, project_id: str, roles: list[str], user: str = "user",
            project_name: str | None = None) -> None:
        self.tokens[token] = {
            "user": {"id": f"{user}-id", "name": user, "domain": {"id": "default"}},
            "project": {"id": project_id, "name": project_name or project_id,
                        "domain": {"id": "default"}},
            "roles": [{"id": r, "name": r} for r in roles],
            "expires_at": "2999-01-01T00:00:00.000000Z", "methods": ["password"]}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Cluster:
    """Rings, configs and processes of one test cluster."""

    def __init__(self, root: str, proxy_overrides: dict[str, Any] | None = None,
                 node_overrides: dict[str, Any] | None = None, part_power: int = 6):
        self.root = root
        self.identity = StubIdentity()
        self.ring_dir = os.path.join(root, "rings")
        self.node_ports = [free_port() for _ in ZONES]
        self.proxy_port = (proxy_overrides or {}).get("bind_port") or free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, str] = {}
        self.proxy_overrides = proxy_overrides or {}
        self.node_overrides = node_overrides or {}
        self._build_rings(part_power)
        self._write_configs()

    # ---------------------------------------------------------------- setup
    def disk(self, n: int) -> str:
        return os.path.join(self.root, f"node{n}", f"disk{n}")

    def _build_rings(self, part_power: int) -> None:
        for kind in ("account", "container", "object"):
            builder = RingBuilder(part_power, 3, 0)
            for n, (zone, port) in enumerate(zip(ZONES, self.node_ports, strict=True),
                                             start=1):
                builder.add_dev({"region": 1, "zone": zone, "ip": "127.0.0.1",
                                 "port": port, "device": f"disk{n}"}, 100)
            builder.rebalance(seed=1)
            write_ring(os.path.join(self.ring_dir, f"{kind}.ring.gz"), builder.get_ring())

    def _ini(self, path: str, groups: dict[str, dict[str, Any]]) -> None:
        with open(path, "w") as handle:
            for group, values in groups.items():
                handle.write(f"[{group}]\n")
                for key, value in values.items():
                    if isinstance(value, list | tuple):
                        value = ",".join(str(v) for v in value)
                    handle.write(f"{key} = {value}\n")
                handle.write("\n")

    def node_conf(self, n: int) -> str:
        return os.path.join(self.root, f"node{n}.conf")

    def _write_configs(self) -> None:
        ring = {"ring_dir": self.ring_dir, "hash_path_suffix": HASH_SUFFIX,
                "reload_interval": 1}
        for n, port in enumerate(self.node_ports, start=1):
            os.makedirs(self.disk(n), exist_ok=True)
            server = {"bind_host": "127.0.0.1", "bind_port": port, "workers": 1,
                      "threads": 64, "devices": os.path.dirname(self.disk(n)),
                      "account_update_interval": 0.2, "node_timeout": 2}
            server.update(self.node_overrides)
            self._ini(self.node_conf(n), {
                "DEFAULT": {"state_path": self.root}, "ring": ring,
                "object_server": server,
                "object_auditor": {"bytes_per_second": 0, "files_per_second": 0}})
        proxy = {"bind_host": "127.0.0.1", "bind_port": self.proxy_port, "workers": 1,
                 "threads": 16,
                 "identity_url": f"http://127.0.0.1:{self.identity.port}/identity",
                 "info_cache_time": 0, "error_suppression_interval": 1,
                 "node_timeout": 5, "log_requests": False}
        proxy.update(self.proxy_overrides)
        self.proxy_conf = os.path.join(self.root, "proxy.conf")
        self._ini(self.proxy_conf, {"ring": ring, "object_proxy": proxy})

    # ---------------------------------------------------------------- processes
    def _spawn(self, name: str, argv: list[str]) -> None:
        log = os.path.join(self.root, f"{name}.log")
        self.logs[name] = log
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(log, "ab") as out:
            self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, env=env, cwd=REPO,
                                                start_new_session=True)

    def start_node(self, n: int) -> None:
        self._spawn(f"node{n}", [sys.executable, "-m", "agents.objectstore.server",
                                 "--config-file", self.node_conf(n)])
        self._wait(self.node_ports[n - 1], f"node{n}")

    def start_proxy(self) -> None:
        self._spawn("proxy", [sys.executable, "-m", "controller.objectproxy.server",
                              "--config-file", self.proxy_conf])
        self._wait(self.proxy_port, "proxy")

    def start(self) -> Cluster:
        """Start every node and the proxy (in parallel) and wait until all answer."""
        for n in range(1, len(ZONES) + 1):
            self._spawn(f"node{n}", [sys.executable, "-m", "agents.objectstore.server",
                                     "--config-file", self.node_conf(n)])
        self._spawn("proxy", [sys.executable, "-m", "controller.objectproxy.server",
                              "--config-file", self.proxy_conf])
        for n in range(1, len(ZONES) + 1):
            self._wait(self.node_ports[n - 1], f"node{n}")
        self._wait(self.proxy_port, "proxy")
        return self

    def _wait(self, port: int, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.tail(name)}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthcheck")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not come up: {self.tail(name)}")

    def stop(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # the gunicorn worker is in the same group; make sure it is gone too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.identity.stop()

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            with open(self.logs[name], errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except (OSError, KeyError):
            return ""

    def run_daemon(self, daemon: str, n: int, timeout: float = 300) -> float:
        """Run stratus-object-<daemon> --once for node n; return seconds taken."""
        started = time.monotonic()
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run([sys.executable, "-m", f"agents.objectstore.{daemon}",
                               "--config-file", self.node_conf(n), "--once"],
                              capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(f"{daemon} on node{n} failed: {proc.stderr[-3000:]}")
        return time.monotonic() - started

    def run_all(self, daemon: str) -> float:
        return sum(self.run_daemon(daemon, n) for n in range(1, len(ZONES) + 1)
                   if f"node{n}" in self.procs)

    # ---------------------------------------------------------------- client
    def url(self, account: str) -> str:
        return f"http://127.0.0.1:{self.proxy_port}/v1/{account}"

    def request(self, method: str, path: str, token: str | None = None,
                headers: dict[str, str] | None = None, body: bytes | None = None,
                query: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request to the proxy; path is quoted here. (status, headers, body)."""
        url = urllib.parse.quote(path.encode("utf-8"), safe="/")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        hdrs = dict(headers or {})
        if token:
            hdrs["X-Auth-Token"] = token
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=60)
        try:
            chunked = body is not None and not isinstance(body, bytes | bytearray)
            conn.request(method, url, body=body, headers=hdrs, encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def wipe_disk(self, n: int) -> None:
        """Lose a disk: everything on it is gone (a replaced, empty disk remains)."""
        disk = self.disk(n)
        for name in os.listdir(disk):
            path = os.path.join(disk, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)

    def object_files(self, account: str, container: str, obj: str) -> list[str]:
        """Paths of the .data files of an object on every disk."""
        from common.ring import Ring

        ring = Ring(os.path.join(self.ring_dir, "object.ring.gz"), hash_suffix=HASH_SUFFIX)
        name_hash = ring.hash_of(account, container, obj)
        part = ring.get_part(account, container, obj)
        found = []
        for n in range(1, len(ZONES) + 1):
            hash_dir = os.path.join(self.disk(n), "objects", str(part), name_hash[-3:],
                                    name_hash)
            if os.path.isdir(hash_dir):
                found += [os.path.join(hash_dir, f) for f in os.listdir(hash_dir)
                          if f.endswith(".data")]
        return found
