"""The unmodified `openstack` CLI and openstacksdk against a real stratus-api subprocess.

The API talks to RabbitMQ (a random control exchange, so the running cloud never hears
it). This process hosts the service's VolumeRpcManager and a recording agent that
answers every cast through the real VolumeServerAPI, the way a volume agent does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from common import messaging
from common.context import RequestContext
from common.rpc.volume import VolumeServerAPI
from controller import conf as controller_conf
from controller.db import base as db_base
from controller.runtime import Runtime
from controller.volume import rpc_server
from tests.functional.image.stratus_cloud import CLIError, StratusCloud
from tests.functional.volume_api import fakes

BACKEND = "clihost@file"
AGENT_METHODS = ("create_volume", "delete_volume", "extend_volume", "create_snapshot",
                 "delete_snapshot", "initialize_connection", "terminate_connection",
                 "copy_volume_to_image", "backup_volume", "restore_backup", "delete_backup")


class AgentEndpoint:
    """The RPC face of a FakeAgent serving one backend (methods take ctxt, **kwargs)."""

    def __init__(self, fake: fakes.FakeAgent, backend: str):
        self._fake, self._backend = fake, backend

    def __getattr__(self, name: str):
        if name not in AGENT_METHODS:
            raise AttributeError(name)
        method = getattr(self._fake, name)
        return lambda ctxt, **kwargs: method(ctxt, self._backend, **kwargs)


@pytest.fixture(scope="module")
def volume_cloud(tmp_path_factory, transport_url) -> Iterator[StratusCloud]:
    cloud = StratusCloud(tmp_path_factory.mktemp("stratus-volume"))
    # oslo.messaging names RabbitMQ queues by topic alone (whatever the exchange), so the
    # topics must be unique too, or another test's servers consume our messages.
    suffix = uuid.uuid4().hex[:8]
    cloud.config.write_text(cloud.config.read_text().replace(
        "[messaging]\n", f"[messaging]\ntransport_url = {transport_url}\n"
                         f"control_exchange = stratus-test-{suffix}\n")
        + f"[volume_rpc]\nagent_topic = volume-agent-{suffix}\n"
          f"server_topic = volume-service-{suffix}\n"
          "[oslo_messaging_rabbit]\namqp_auto_delete = true\n")
    messaging.cleanup()
    conf = controller_conf.make(["--config-file", str(cloud.config)])
    servers = []
    stop = threading.Event()
    try:
        cloud.start()
        rt = Runtime.from_conf(conf)
        reports = VolumeServerAPI(conf)
        fake = fakes.FakeAgent(rt)
        fake.manager = reports  # answers go over the bus, as a real agent's do
        servers = [rpc_server.server(rt),
                   messaging.rpc_server(conf, conf.volume_rpc.agent_topic,
                                        [AgentEndpoint(fake, BACKEND)], server=BACKEND)]
        for server in servers:
            server.start()
        ctx = RequestContext.admin()

        def heartbeat() -> None:  # as an agent does, or its backend goes down
            while not stop.is_set():
                reports.report_state(ctx, "clihost", "stratus-volume-agent", "file")
                reports.report_capacity(ctx, BACKEND, fakes.STATS)
                stop.wait(5)

        beating = threading.Thread(target=heartbeat, daemon=True)
        beating.start()
        _wait(lambda: reports.volumes_on_backend(ctx, BACKEND) == [] and
              cloud.openstack("volume", "service", "list"))
        yield cloud
    finally:
        stop.set()
        for server in servers:
            server.stop()
            server.wait()
        cloud.stop()
        messaging.cleanup()
        db_base.reset()


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.3)


def _volume(cli, name: str, wanted: str = "available", user: str = "admin") -> dict:
    last: dict = {}

    def shown():
        last.update(cli("volume", "show", name, user=user))
        return dict(last) if last["status"] == wanted else None

    try:
        return _wait(shown)
    except AssertionError as exc:
        raise AssertionError(f"volume {name} is {last.get('status')}, not {wanted}") from exc


def test_volume_lifecycle(volume_cloud):
    cli = volume_cloud.openstack
    created = cli("volume", "create", "--size", "1", "--property", "purpose=test", "vol1",
                  user="demo")
    assert created["size"] == 1 and created["name"] == "vol1"
    shown = _volume(cli, "vol1", user="demo")
    assert shown["properties"] == {"purpose": "test"} and shown["type"] == "__DEFAULT__"
    assert "vol1" in [row["Name"] for row in cli("volume", "list", user="demo")]
    cli("volume", "set", "--property", "tier=gold", "--bootable", "--read-only", "vol1",
        user="demo", json_out=False)
    shown = cli("volume", "show", "vol1", user="demo")
    assert shown["bootable"] is True
    assert shown["properties"] == {"purpose": "test", "tier": "gold", "readonly": "True"}
    cli("volume", "set", "--size", "2", "vol1", user="demo", json_out=False)
    assert _wait(lambda: cli("volume", "show", "vol1", user="demo")["size"] == 2)
    with pytest.raises(CLIError):
        cli("volume", "show", "vol1", user="admin")  # another project's: not found by name
    cli("volume", "delete", "vol1", user="demo", json_out=False)
    _wait(lambda: "vol1" not in [r["Name"] for r in cli("volume", "list", user="demo")])


def test_types_snapshots_backups(volume_cloud):
    cli = volume_cloud.openstack
    vtype = cli("volume", "type", "create", "--property", "volume_backend_name=file", "filetype")
    assert vtype["properties"] == {"volume_backend_name": "file"}
    cli("volume", "create", "--size", "1", "--type", "filetype", "src")
    assert _volume(cli, "src")["type"] == "filetype"
    cli("volume", "snapshot", "create", "--volume", "src", "snap1")
    _wait(lambda: cli("volume", "snapshot", "show", "snap1")["status"] == "available")
    assert "snap1" in [row["Name"] for row in cli("volume", "snapshot", "list")]
    cli("volume", "create", "--snapshot", "snap1", "fromsnap")
    assert _volume(cli, "fromsnap")["size"] == 1
    cli("volume", "snapshot", "delete", "snap1", json_out=False)
    _wait(lambda: "snap1" not in [r["Name"] for r in cli("volume", "snapshot", "list")])

    backup = cli("volume", "backup", "create", "--name", "bk1", "src")
    _wait(lambda: cli("volume", "backup", "show", backup["id"])["status"] == "available")
    assert "bk1" in [row["Name"] for row in cli("volume", "backup", "list")]
    restored = cli("volume", "backup", "restore", "bk1", "restored")
    assert restored["volume_name"] == "restored"
    _volume(cli, "restored")
    cli("volume", "backup", "delete", "bk1", json_out=False)
    for name in ("src", "fromsnap", "restored"):
        cli("volume", "delete", name, json_out=False)
    _wait(lambda: not {"src", "fromsnap", "restored"} &
          {r["Name"] for r in cli("volume", "list")})
    cli("volume", "type", "delete", "filetype", json_out=False)


def test_services_zones_quotas_and_errors(volume_cloud):
    cli = volume_cloud.openstack
    services = cli("volume", "service", "list")
    assert [(s["Binary"], s["Host"], s["Status"], s["State"]) for s in services] == \
        [("cinder-volume", BACKEND, "enabled", "up")]
    zones = cli("availability", "zone", "list", "--volume")
    assert [(z["Zone Name"], z["Zone Status"]) for z in zones] == [("nova", "available")]
    cli("quota", "set", "--volumes", "1", "demo", json_out=False)
    shown = {row["Resource"]: row["Limit"] for row in cli("quota", "show", "--volume", "demo")}
    assert (shown["volumes"], shown["per-volume-gigabytes"], shown["volumes___DEFAULT__"]) \
        == (1, -1, -1)
    cli("volume", "create", "--size", "1", "one", user="demo")
    with pytest.raises(CLIError, match="413|exceeded"):
        cli("volume", "create", "--size", "1", "two", user="demo")
    with pytest.raises(CLIError, match="size"):
        cli("volume", "create", "--size", "0", "zero", user="demo")
    with pytest.raises(CLIError, match="could not be found|No VolumeType|404"):
        cli("volume", "create", "--size", "1", "--type", "nosuchtype", "typo", user="demo")
    _volume(cli, "one", user="demo")
    cli("volume", "delete", "one", user="demo", json_out=False)
    cli("quota", "set", "--volumes", "10", "demo", json_out=False)


def test_sdk_block_storage(volume_cloud):
    conn = volume_cloud.sdk("demo")
    created = conn.block_storage.create_volume(size=1, name="sdkvol")
    found = conn.block_storage.wait_for_status(created, "available", wait=30)
    assert found.size == 1
    assert "sdkvol" in [v.name for v in conn.block_storage.volumes()]
    assert [v.name for v in conn.block_storage.volumes(name="sdkvol")] == ["sdkvol"]
    conn.block_storage.extend_volume(found, 2)
    _wait(lambda: conn.block_storage.get_volume(found.id).size == 2)
    assert conn.block_storage.get_volume(found.id).status == "available"
    conn.block_storage.delete_volume(found)
    conn.block_storage.wait_for_delete(found, wait=30)
