"""The conductor with the real compute agent manager (``agents.compute.manager``) on the
FakeDriver: the two sides of the contract as they ship, over real RabbitMQ."""

from __future__ import annotations

import uuid as uuidlib

import pytest

from agents.compute import conf as agent_conf
from agents.compute.fake import FakeDriver
from agents.compute.locks import InstanceLocks
from agents.compute.manager import ComputeManager
from agents.compute.reporter import Reporter
from common import messaging
from common.context import RequestContext
from common.rpc.conductor import ConductorAPI
from controller.compute import states
from controller.image import data as image_data
from controller.image import images
from controller.scheduler.host_state import COMPUTE_BINARY
from tests.functional.conductor.conftest import wait_for
from tests.unit.conductor import seed


@pytest.fixture
def real_host(stack, cloud):
    host = f"real-{uuidlib.uuid4().hex[:8]}"
    conf = agent_conf.make(None, default_overrides={"host": host})
    for group in ("messaging", "conductor", "compute_rpc"):  # the stack's bus and topics
        for name in conf[group]:
            conf.set_override(name, stack.conf[group][name], group=group)
    driver = FakeDriver()

    def upload(image_id, chunks):
        image_data.upload(stack.rt, RequestContext.admin(), image_id, chunks)

    conductor = ConductorAPI(conf)
    manager = ComputeManager(conf, driver, Reporter(conductor, host), upload, InstanceLocks())
    seed.compute_host(stack.rt, host, memory_mb=8192)
    cloud.hosts.append(host)
    stack.compute_hosts.append(host)
    server = messaging.rpc_server(conf, conf.compute_rpc.topic, [manager], server=host)
    server.start()
    conductor.report_state(RequestContext.admin(), host, COMPUTE_BINARY,
                           conf.compute_rpc.topic)
    yield host, driver
    server.stop()
    server.wait()
    driver.close()


def test_lifecycle_with_the_real_agent(cloud, flavor, real_host):
    host, driver = real_host
    uuid = cloud.boot_active(flavor)
    row = cloud.row(uuid)
    assert row.host == host and uuid in driver.domains

    cloud.act(uuid, "stop")
    assert cloud.wait_state(uuid, states.STOPPED).power_state == 4
    cloud.act(uuid, "start")
    assert cloud.wait_state(uuid, states.ACTIVE).power_state == 1

    image_id = images.create(cloud.rt, seed.user_ctx(), {
        "name": "snap", "disk_format": "qcow2", "container_format": "bare"}, {}, []).id
    cloud.act(uuid, "snapshot", image_id=image_id)
    wait_for(lambda: "instance.snapshot.end" in cloud.events(uuid))
    assert images.get(cloud.rt, seed.user_ctx(), image_id).status == "active"

    bigger = seed.flavor(cloud.rt, memory_mb=256, vcpus=2, root_gb=2)
    cloud.act(uuid, "resize", flavor_id=bigger["id"])
    cloud.wait_state(uuid, states.RESIZED)
    assert driver.domains[uuid].instance.flavor.memory_mb == 256
    cloud.act(uuid, "revert_resize")
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.flavor["id"] == flavor["id"]
    assert driver.domains[uuid].instance.flavor.memory_mb == 128
    assert [a["memory_mb"] for a in cloud.allocations(uuid)] == [128]

    cloud.delete(uuid)
    wait_for(lambda: cloud.row(uuid).deleted, what="the delete")
    assert uuid not in driver.domains and cloud.allocations(uuid) == []
