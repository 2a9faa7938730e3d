"""The agents as their daemons run: entry points, config files, --once, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from agents.network import ovs
from tests.functional.network_agent.netenv import wait_until

pytestmark = pytest.mark.usefixtures("ovs_host")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _config_file(env, path) -> str:
    lines = []
    for group, values in env.overrides().items():
        lines.append(f"[{group}]")
        for key, value in values.items():
            text = ",".join(value) if isinstance(value, list) else str(value)
            lines.append(f"{key} = {text}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _agent(module: str, conf: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", f"agents.network.{module}",
                             "--config-file", conf, *extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_once_runs_one_full_sync_and_exits(netenv, tmp_path):
    conf = _config_file(netenv, tmp_path / "stratus.conf")
    proc = _agent("ovs_agent", conf, "--once")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "full sync done" in out
    assert ovs.Bridge(netenv.names["int"]).exists()


def test_sigterm_stops_a_running_agent(netenv, tmp_path):
    conf = _config_file(netenv, tmp_path / "stratus.conf")
    for module, binary in (("dhcp_agent", "stratus-dhcp-agent"),
                           ("metadata_agent", "stratus-metadata-agent")):
        proc = _agent(module, conf)
        try:
            wait_until(f"{binary} to report", lambda binary=binary: any(
                r["binary"] == binary for r in netenv.fake.reports), timeout=60)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        assert time.monotonic() - started < 15
        assert f"{binary} stopped" in out
