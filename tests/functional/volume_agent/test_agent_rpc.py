"""The agent as a process over real RabbitMQ: every cast and call of the contract, and
a SIGKILL in the middle of a large image -> volume copy.

The service side is :class:`RecordingServer` served on ``[volume_rpc] server_topic`` in
this test process; the agent reaches it through its own ``VolumeServerAPI``. A private
control exchange and private topics keep both away from the running cloud and from
other test runs (see :mod:`agent_process`).
"""

from __future__ import annotations

import hashlib
import os
import uuid

import oslo_messaging
import pytest

from common import messaging
from common.context import RequestContext
from common.rpc.volume import VolumeAgentAPI
from tests import processes
from tests.functional.volume_agent.agent_process import (
    AgentProcess,
    private_bus,
    unique_host,
    wait,
    write_config,
)
from tests.functional.volume_agent.conftest import iscsi_url, qemu, remove_targets_under
from tests.unit.volume_agent.helpers import RecordingServer

CTX = RequestContext.admin()
LOCAL = {"host": "func-test", "ip": "127.0.0.1", "initiator": None}
GiB = 1024 ** 3


@pytest.fixture(scope="module")
def bus(transport_url, tmp_path_factory):
    """(conf, recorder, agent API) on a private exchange; the recorder serves the
    service side of the contract."""
    conf = private_bus(transport_url, tmp_path_factory.mktemp("bus"))
    recorder = RecordingServer()
    server = messaging.rpc_server(conf, conf.volume_rpc.server_topic, [recorder],
                                  server="test-service")
    server.start()
    yield conf, recorder, VolumeAgentAPI(conf)
    server.stop()
    server.wait()
    messaging.cleanup()


@pytest.fixture
def recorder(bus):
    _, recorder, _ = bus
    recorder.volumes.clear()
    recorder.snapshots.clear()
    recorder.backups.clear()
    recorder.calls.clear()
    return recorder


@pytest.fixture
def agent(bus, workdir, tgtd, guest_image):
    conf, _, _ = bus
    host = unique_host()
    config = write_config(workdir, conf, host)
    (workdir / "uploads").mkdir()
    proc = AgentProcess(config, workdir, {"STRATUS_TEST_IMAGE_FILE": str(guest_image),
                                          "STRATUS_TEST_UPLOAD_DIR": str(workdir / "uploads")})
    proc.host = f"{host}@file"
    yield proc
    proc.cleanup()
    remove_targets_under(str(workdir))


def _status(recorder, volume_id, wanted, agent, timeout=60):
    wait(lambda: recorder.status(volume_id) in wanted, timeout,
         f"volume {volume_id} to become {wanted} (is {recorder.status(volume_id)}; "
         f"updates: {[c for c in recorder.named('volume_update') if c['volume_id'] == volume_id]})",
         agent)
    return recorder.status(volume_id)


def _create(api, recorder, agent, size=1, source=None, status="creating"):
    volume_id = str(uuid.uuid4())
    recorder.add_volume(volume_id, status)
    api.create_volume(CTX, agent.host, {"id": volume_id, "size": size, "project_id": "p",
                                        "volume_type_id": None, "name": "v",
                                        "source": source or {"type": "blank", "id": None,
                                                             "image": None},
                                        "provider_location": None})
    return volume_id


def _started(agent, recorder):
    """Start the agent and wait until it serves: reports come only after start-up
    reconciliation, so a new one means the host has converged."""
    before = len(recorder.named("report_capacity"))
    agent.start()
    wait(lambda: len(recorder.named("report_capacity")) > before, 60,
         "the agent's first capacity report", agent)


def test_every_cast_and_call_over_rabbitmq(bus, recorder, agent, workdir, guest_image,
                                           guest_image_record):
    _, _, api = bus
    _started(agent, recorder)
    # Casts are handled on several threads: the heartbeat may be recorded after the report.
    state = wait(lambda: recorder.named("report_state"), 30, "a heartbeat", agent)[0]
    assert state == {"host": agent.host.split("@")[0], "binary": "stratus-volume-agent",
                     "backend": "file"}
    volumes = workdir / "volumes"

    # blank volume, exported over the bus and read through QEMU's initiator
    blank = _create(api, recorder, agent)
    assert _status(recorder, blank, {"available", "error"}, agent) == "available"
    info = api.initialize_connection(CTX, agent.host, blank, LOCAL)
    assert qemu(["qemu-img", "info", iscsi_url(info)]).returncode == 0
    api.terminate_connection(CTX, agent.host, blank, LOCAL)
    assert qemu(["qemu-img", "info", iscsi_url(info)], check=False).returncode != 0
    with pytest.raises(oslo_messaging.RemoteError) as caught:
        api.initialize_connection(CTX, agent.host, str(uuid.uuid4()), LOCAL)
    assert caught.value.exc_type == "VolumeNotFound"

    # extend
    recorder.volumes[blank]["status"] = "extending"
    api.extend_volume(CTX, agent.host, blank, 2)
    _status(recorder, blank, {"available"}, agent)
    assert recorder.volumes[blank]["size"] == 2
    assert os.path.getsize(volumes / f"volume-{blank}") == 2 * GiB

    # from the image, then snapshot -> volume from snapshot -> same content
    source = {"type": "image", "id": guest_image_record["id"], "image": guest_image_record}
    from_image = _create(api, recorder, agent, source=source, status="downloading")
    assert _status(recorder, from_image, {"available", "error"}, agent) == "available"
    assert recorder.volumes[from_image]["bootable"] is True
    snapshot = str(uuid.uuid4())
    api.create_snapshot(CTX, agent.host, snapshot, from_image)
    wait(lambda: recorder.snapshots.get(snapshot, {}).get("status") == "available", 60,
         "the snapshot", agent)
    copy = _create(api, recorder, agent, size=2, source={"type": "snapshot", "id": snapshot})
    _status(recorder, copy, {"available"}, agent)
    assert qemu(["qemu-img", "compare", "-f", "raw", "-F", "qcow2",
                 str(volumes / f"volume-{copy}"), str(guest_image)]).returncode == 0

    # backup and restore into a new volume
    backup = str(uuid.uuid4())
    recorder.volumes[copy]["status"] = "backing-up"
    api.backup_volume(CTX, agent.host, backup, copy)
    wait(lambda: recorder.backups.get(backup, {}).get("status") == "available", 60,
         "the backup", agent)
    _status(recorder, copy, {"available"}, agent)
    restored = _create(api, recorder, agent, size=2)
    _status(recorder, restored, {"available"}, agent)
    recorder.volumes[restored]["status"] = "restoring-backup"
    api.restore_backup(CTX, agent.host, backup, restored)
    _status(recorder, restored, {"available", "error_restoring"}, agent)
    assert recorder.status(restored) == "available"
    assert qemu(["qemu-img", "compare", "-f", "raw", "-F", "raw",
                 str(volumes / f"volume-{restored}"),
                 str(volumes / f"volume-{copy}")]).returncode == 0

    # volume -> image (qcow2), as the image service would receive it
    image_id = str(uuid.uuid4())
    recorder.volumes[from_image]["status"] = "uploading"
    api.copy_volume_to_image(CTX, agent.host, from_image, {"id": image_id,
                                                           "disk_format": "qcow2"})
    wait(lambda: recorder.named("image_uploaded"), 60, "the image upload", agent)
    assert recorder.named("image_uploaded")[0]["error"] is None
    assert qemu(["qemu-img", "compare", str(workdir / "uploads" / image_id),
                 str(guest_image)]).returncode == 0

    # deletes: everything goes, and the service hears about each
    api.delete_backup(CTX, agent.host, backup)
    api.delete_snapshot(CTX, agent.host, snapshot)
    for volume_id in (blank, from_image, copy, restored):
        recorder.volumes[volume_id]["status"] = "deleting"
        api.delete_volume(CTX, agent.host, volume_id)
    wait(lambda: len(recorder.named("volume_deleted")) == 4 and
         recorder.named("snapshot_deleted") and recorder.named("backup_deleted"), 60,
         "the deletes", agent)
    assert agent.stop() == 0, agent.log()[-3000:]
    assert os.listdir(volumes) == [] and os.listdir(workdir / "backups") == []
    assert os.listdir(workdir / "conversion") == []


def _big_image(workdir, size_mb: int) -> tuple[str, dict]:
    """A raw image of size_mb MiB of non-zero data (every block must be copied)."""
    path = workdir / "big.raw"
    block = os.urandom(1 << 20)
    digest = hashlib.sha512()
    with open(path, "wb") as out:
        for _ in range(size_mb):
            out.write(block)
            digest.update(block)
    return str(path), {"id": str(uuid.uuid4()), "disk_format": "raw",
                       "os_hash_algo": "sha512", "os_hash_value": digest.hexdigest(),
                       "size": size_mb << 20}


def _copies_running(workdir) -> list[int]:
    return processes.pids("qemu-img", str(workdir))


@pytest.mark.parametrize("phase", ["download", "convert"])
def test_agent_killed_mid_create_leaves_no_orphans(bus, recorder, agent, workdir, phase):
    _, _, api = bus
    image_path, image = _big_image(workdir, 1536)
    agent.env.update(STRATUS_TEST_IMAGE_FILE=image_path,
                     STRATUS_TEST_FETCH_MBPS="250" if phase == "download" else "")
    _started(agent, recorder)

    # Around the copy: one volume whose target must come back after the restart (as if
    # tgtd had restarted too), one the service deletes while the agent is down.
    attached = _create(api, recorder, agent)
    doomed = _create(api, recorder, agent)
    _status(recorder, attached, {"available"}, agent)
    _status(recorder, doomed, {"available"}, agent)
    attached_info = api.initialize_connection(CTX, agent.host, attached, LOCAL)
    recorder.volumes[attached].update(status="in-use", exports=[LOCAL])
    doomed_info = api.initialize_connection(CTX, agent.host, doomed, LOCAL)

    big = _create(api, recorder, agent, size=2, source={"type": "image", "id": image["id"],
                                                        "image": image})
    scratch = workdir / "conversion" / f"{big}.image"
    if phase == "download":
        wait(lambda: scratch.exists() and scratch.stat().st_size > 300 << 20, 60,
             "the download to be under way", agent, interval=0.01)
    else:
        wait(lambda: _copies_running(workdir), 60, "qemu-img convert to run", agent,
             interval=0.005)
    agent.kill()
    assert recorder.status(big) == "creating"

    # While the agent is down: the service deletes one volume, tgtd loses a target.
    recorder.volumes[doomed]["deleted"] = True
    qemu(["tgtadm", "--lld", "iscsi", "--op", "delete", "--mode", "target", "--force",
          "--tid", _tid(attached_info["data"]["target_iqn"])])

    agent.env["STRATUS_TEST_FETCH_MBPS"] = ""
    _started(agent, recorder)
    assert _status(recorder, big, {"error", "available"}, agent) == "error"
    volumes = sorted(os.listdir(workdir / "volumes"))
    assert volumes == [f"volume-{attached}"], volumes
    assert os.listdir(workdir / "conversion") == []
    assert _copies_running(workdir) == []
    exports = _our_targets(workdir)
    assert exports == {attached_info["data"]["target_iqn"]: str(workdir / "volumes" /
                                                                f"volume-{attached}")}
    # Re-created with the very credentials the service stored at attach time.
    assert qemu(["qemu-img", "info", iscsi_url(attached_info)]).returncode == 0
    assert qemu(["qemu-img", "info", iscsi_url(doomed_info)], check=False).returncode != 0
    log = agent.log()
    assert "fail-create" in log and "remove-orphan" in log and "export" in log

    recorder.volumes[attached].update(status="deleting", exports=[])
    api.delete_volume(CTX, agent.host, attached)
    wait(lambda: recorder.named("volume_deleted"), 30, "the delete", agent)
    assert agent.stop() == 0
    assert _our_targets(workdir) == {}


def _tid(iqn: str) -> str:
    from agents.volume.tgt import parse_show
    show = qemu(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"]).stdout
    return str(parse_show(show)[iqn].tid)


def _our_targets(workdir) -> dict[str, str | None]:
    from agents.volume.tgt import parse_show
    show = qemu(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"]).stdout
    return {iqn: t.luns.get(1) for iqn, t in parse_show(show).items()
            if t.luns.get(1, "").startswith(str(workdir))}
