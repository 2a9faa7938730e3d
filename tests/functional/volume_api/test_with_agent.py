"""The whole path with the real volume agent: API -> scheduler claim -> cast over RabbitMQ
-> stratus-volume-agent (file driver + tgt) -> report -> VolumeRpcManager -> API.

create -> available -> export through the attachments API (QEMU's iSCSI initiator reads
the LUN with the CHAP credentials) -> delete refused while attached -> detach (the
target goes) -> delete (the file goes). The bus is private (exchange and topics).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from agents.volume.tgt import parse_show
from common import messaging
from controller import conf as controller_conf
from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime
from controller.volume import rpc_server
from tests.functional import support
from tests.functional.volume_agent.agent_process import (
    AgentProcess,
    unique_host,
    wait,
    write_config,
)
from tests.functional.volume_agent.conftest import (  # noqa: F401 - fixtures
    iscsi_url,
    qemu,
    qemu_iscsi,
    tgtd,
    workdir,
)
from tests.functional.volume_api.conftest import Volumes


def _targets() -> list[str]:
    show = subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"],
                          capture_output=True, text=True, check=False).stdout
    return list(parse_show(show))


@pytest.fixture
def stack(transport_url, tgtd, qemu_iscsi, workdir: Path):  # noqa: F811
    tag = uuid.uuid4().hex[:8]
    config = workdir / "service.conf"
    config.write_text(f"""[database]
connection = sqlite:///{workdir}/stratus.sqlite
[fernet_tokens]
key_repository = {workdir}/keys
[identity]
password_hash_rounds = 4
[messaging]
transport_url = {transport_url}
control_exchange = stratus-e2e-{tag}
notification_driver = noop
rpc_timeout = 30
[volume_rpc]
agent_topic = stratus-volume-agent-{tag}
server_topic = stratus-volume-{tag}
[oslo_messaging_rabbit]
amqp_auto_delete = true
""")
    messaging.cleanup()
    conf = controller_conf.make(["--config-file", str(config)])
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(f"{workdir}/keys").setup()
    ids = bootstrap.run(rt, bootstrap.Options(admin_password="admin-pw",
                                              demo_password="demo-pw",
                                              public_url="http://127.0.0.1:8770"))
    cloud = support.Cloud(create_app(conf, rt).test_client(), rt, ids)
    server = rpc_server.server(rt)
    server.start()
    host = unique_host()
    agent = AgentProcess(write_config(workdir, conf, host), workdir)
    agent.start()
    try:
        demo = Volumes(cloud, cloud.demo(), ids["demo_project_id"])
        admin = Volumes(cloud, cloud.admin(), ids["admin_project_id"])
        wait(lambda: [p for p in admin.ok("GET", "/scheduler-stats/get_pools")["pools"]
                      if p["name"].startswith(f"{host}@")], 60, "the agent's pool", agent)
        yield demo, agent, workdir
    finally:
        if agent.alive():
            agent.stop()
        server.stop()
        server.wait()
        messaging.cleanup()
        db_base.reset()


def test_create_export_delete_with_the_real_agent(stack):
    demo, agent, home = stack
    vol = demo.create_volume(1, name="real")
    vid = vol["id"]
    wait(lambda: demo.show(vid)["status"] == "available", 60, "available", agent)
    data = home / "volumes" / f"volume-{vid}"
    assert data.exists() and data.stat().st_size == 1024 ** 3

    connector = {"host": "compute-test", "ip": "127.0.0.1",
                 "initiator": f"iqn.1993-08.org.debian:01:{uuid.uuid4().hex[:12]}"}
    created = demo.ok("POST", "/attachments", {"attachment": {
        "volume_uuid": vid, "instance_uuid": str(uuid.uuid4()), "connector": connector}},
        status=200)["attachment"]
    info = created["connection_info"]
    assert info["driver_volume_type"] == "iscsi" and info["data"]["auth_method"] == "CHAP"
    assert vid in info["data"]["target_iqn"] and info["data"]["access_mode"] == "rw"
    assert info["data"]["target_iqn"] in _targets()
    size = qemu(["qemu-img", "info", "--output=json", "--image-opts",
                 f"driver=iscsi,transport=tcp,portal={info['data']['target_portal']},"
                 f"target={info['data']['target_iqn']},lun={info['data']['target_lun']},"
                 f"user={info['data']['auth_username']},"
                 f"password={info['data']['auth_password']},"
                 f"initiator-name={connector['initiator']}"], check=False)
    if size.returncode != 0:  # older QEMU spells it as a URL
        size = qemu(["qemu-img", "info", "--output=json", iscsi_url(info)], check=False)
    assert '"virtual-size": 1073741824' in size.stdout, size.stderr
    demo.call("POST", f"/attachments/{created['id']}/action", {"os-complete": {}})
    assert demo.show(vid)["status"] == "in-use"
    assert demo.call("DELETE", f"/volumes/{vid}").status_code == 400

    demo.ok("DELETE", f"/attachments/{created['id']}", status=200)
    assert info["data"]["target_iqn"] not in _targets()
    assert demo.show(vid)["status"] == "available"
    demo.ok("DELETE", f"/volumes/{vid}")
    wait(lambda: demo.call("GET", f"/volumes/{vid}").status_code == 404, 60, "deleted",
         agent)
    assert not data.exists()
    assert not [name for name in os.listdir(home / "volumes") if vid in name]
