"""The agent process: backends from config, start-up, reports (no RPC server)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import oslo_messaging
import pytest

from agents.volume import conf as volume_conf
from agents.volume import daemon
from agents.volume.clients import Clients
from agents.volume.fake import FakeTarget
from agents.volume.file_driver import FileDriver
from tests.unit.volume_agent.helpers import RecordingServer, new_id


@pytest.fixture
def conf(tmp_path):
    config = tmp_path / "agent.conf"
    config.write_text(f"""[DEFAULT]
host = node1
[volume]
enabled_backends = one,two
file_path = {tmp_path}/one
image_conversion_dir = {tmp_path}/conv
chap_key_file = {tmp_path}/chap.key
target_ip_address = 127.0.0.1
[two]
file_path = {tmp_path}/two
volume_backend_name = slow
[backup]
file_path = {tmp_path}/backups
""")
    return volume_conf.make(["--config-file", str(config)])


@pytest.fixture
def agent(conf, monkeypatch):
    monkeypatch.setattr(daemon, "make_targets", lambda backend, *a: FakeTarget(backend))
    return daemon.VolumeAgent(conf, clients=Clients(), server_api=RecordingServer())


def test_backends_from_config(agent, tmp_path):
    hosts = [b.host for b in agent.backends]
    assert hosts == ["node1@one", "node1@two"]
    assert all(isinstance(b.driver, FileDriver) for b in agent.backends)
    assert agent.backends[1].driver.directory == f"{tmp_path}/two"
    assert agent.backends[0].manager.backups is not None


def test_start_reconciles_every_backend_and_cleans_scratch(agent, tmp_path):
    server = agent.server
    os.makedirs(tmp_path / "conv")
    (tmp_path / "conv" / f"{new_id()}.image").write_bytes(b"partial")
    orphan = new_id()
    agent.backends[1].driver.check_setup()
    agent.backends[1].driver.create_volume(orphan, 1)
    agent.start(serve=False)
    assert [c["backend_host"] for c in server.named("volumes_on_backend")] == \
        ["node1@one", "node1@two"]
    assert agent.backends[1].driver.list_volumes() == set()
    assert os.listdir(tmp_path / "conv") == []


def test_start_waits_for_the_service(agent):
    calls = []

    def flaky(ctx, backend_host):
        calls.append(backend_host)
        if len(calls) < 3:
            raise oslo_messaging.MessagingTimeout("conductor down")
        return []

    agent.server.volumes_on_backend = flaky
    agent.stop.wait = lambda delay: None  # no real back-off sleeps
    agent.start(serve=False)
    assert calls == ["node1@one", "node1@one", "node1@one", "node1@two"]


def test_once_mode_skips_an_absent_service(agent):
    def down(ctx, backend_host):
        raise oslo_messaging.MessagingTimeout("down")

    agent.server.volumes_on_backend = down
    agent.start(serve=False, wait_for_service=False)  # returns instead of waiting


def test_run_once_heartbeats_and_reports_capacity_when_due(agent):
    for backend in agent.backends:
        backend.driver.check_setup()
    assert agent.run_once() == {"heartbeats": 2, "capacity": 2}
    assert agent.run_once() == {"heartbeats": 2, "capacity": 0}
    state = agent.server.named("report_state")[0]
    assert state == {"host": "node1", "binary": "stratus-volume-agent", "backend": "one"}
    stats = agent.server.named("report_capacity")[1]["stats"]
    assert stats["volume_backend_name"] == "slow" and stats["storage_protocol"] == "iSCSI"
    assert stats["thin_provisioning_support"] is True
    assert stats["total_capacity_gb"] >= stats["free_capacity_gb"] > 0


def test_stray_copies_into_our_directories_are_stopped(agent, tmp_path):
    os.makedirs(tmp_path / "one", exist_ok=True)
    # A stand-in for a qemu-img a killed agent left behind: argv[0] is what matters.
    sleeper = f"exec -a qemu-img {sys.executable} -c 'import time; time.sleep(60)'"
    stray = subprocess.Popen(["bash", "-c", f"{sleeper} {tmp_path}/one/volume-x"])
    bystander = subprocess.Popen(["bash", "-c", f"{sleeper} /elsewhere/volume-x"])
    try:
        time.sleep(0.2)
        agent._stop_stray_copies()
        assert stray.wait(5) == -9
        assert bystander.poll() is None
    finally:
        for proc in (stray, bystander):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
