"""select_destinations through SchedulerAPI over a real RabbitMQ (own control exchange)."""

from __future__ import annotations

import uuid

import pytest

from common import messaging
from common.context import RequestContext
from controller.db import base as db_base
from controller.runtime import Runtime
from controller.scheduler import claims
from controller.scheduler.manager import SchedulerManager
from controller.scheduler.rpcapi import SchedulerAPI
from tests.functional import support
from tests.functional.scheduler.conftest import add_group, add_host, flavor_spec


@pytest.fixture
def rpc_rt(rt, transport_url, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    conf = support.make_conf(rt.db.url, str(tmp_path / "keys"),
                             messaging={"transport_url": transport_url,
                                        "control_exchange": f"stratus-test-{suffix}",
                                        "rpc_timeout": 30},
                             scheduler={"topic": f"test-scheduler-{suffix}"},
                             DEFAULT={"host": f"sched-{suffix}"})
    runtime = Runtime(conf=conf, db=rt.db)
    server = messaging.rpc_server(conf, conf.scheduler.topic, [SchedulerManager(runtime)])
    server.start()
    yield runtime
    server.stop()
    server.wait()
    messaging.cleanup()
    db_base.reset()


def test_select_destinations_over_rabbitmq(rpc_rt):
    node = add_host(rpc_rt, "rpc-a")
    add_host(rpc_rt, "rpc-b")
    group = add_group(rpc_rt, "anti-affinity")
    api = SchedulerAPI(rpc_rt.conf)
    assert api._client.call(RequestContext(), "ping", message="hi") == "hi"
    uuids = [str(uuid.uuid4()) for _ in range(3)]
    result = api.select_destinations(RequestContext(), flavor_spec(group_uuid=group), uuids,
                                     exclude_hosts=None)
    assert sorted(s["host"] for s in result["selections"]) == ["rpc-a", "rpc-b"]
    assert set(result["failed"]) | {s["instance_uuid"] for s in result["selections"]} == set(uuids)
    [message] = result["failed"].values()
    assert message.startswith("No valid host was found. There are not enough hosts available: "
                              "ServerGroupAntiAffinityFilter left 0 of 2 hosts")
    placed = {s["instance_uuid"]: s for s in result["selections"]}
    for instance_uuid, selection in placed.items():
        assert [a["compute_node_id"] for a in claims.allocations(rpc_rt, instance_uuid)] == [
            selection["compute_node_id"]]
    assert node in {s["compute_node_id"] for s in result["selections"]}
