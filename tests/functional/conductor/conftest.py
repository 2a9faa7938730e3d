"""A conductor and a scheduler serving over real RabbitMQ (a random control exchange, so
the running cloud's daemons never see these messages), on SQLite and PostgreSQL, with
fake compute hosts whose agents run in the test process.

The tests play the compute API's part: they write the instance rows and actions the API
would, set the task_state with the same guarded update, and cast to the conductor.
"""

from __future__ import annotations

import dataclasses
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from common import messaging
from common.context import RequestContext
from common.rpc.conductor import ConductorAPI
from controller import services
from controller.compute import states
from controller.conductor import instances
from controller.conductor.manager import ConductorManager
from controller.db import base as db_base
from controller.db import migration
from controller.db.models.services import Service
from controller.image import data as image_data
from controller.image import store
from controller.runtime import Runtime
from controller.scheduler import claims
from controller.scheduler.host_state import COMPUTE_BINARY
from controller.scheduler.manager import SchedulerManager
from tests.functional import support
from tests.functional.conductor.fake_agent import FakeAgent
from tests.unit.conductor import seed


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """predicate's first truthy value, polling; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


@dataclasses.dataclass
class Stack:
    conf: Any
    rt: Runtime
    conductor: ConductorAPI
    notifications: list[tuple[str, dict]]
    compute_hosts: list[str] = dataclasses.field(default_factory=list)


def _remove_from_bus(conf, compute_hosts: list[str]) -> None:
    """Delete the queues and exchanges this module's RPC servers declared (oslo leaves
    them behind), so the shared RabbitMQ does not collect them."""
    import kombu

    servers = {conf.conductor.topic: [conf.host], conf.scheduler.topic: [conf.host],
               conf.compute_rpc.topic: compute_hosts}
    queues = [name for topic, hosts in servers.items()
              for name in (topic, *(f"{topic}.{host}" for host in hosts))]
    exchanges = [conf.messaging.control_exchange, *(f"{topic}_fanout" for topic in servers)]
    url = conf.messaging.transport_url.replace("rabbit://", "amqp://", 1)  # kombu's name
    with kombu.Connection(url) as connection:
        for kind, names in (("queue", queues), ("exchange", exchanges)):
            for name in names:
                channel = connection.channel()  # a failed delete closes its channel
                try:
                    getattr(channel, f"{kind}_delete")(name)
                except Exception:  # noqa: BLE001 - already gone
                    pass
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001
                        pass


@pytest.fixture(scope="module")
def stack(database_url, transport_url, tmp_path_factory):
    suffix = uuidlib.uuid4().hex[:8]
    conf = support.make_conf(
        database_url, str(tmp_path_factory.mktemp("keys")),
        messaging={"transport_url": transport_url, "control_exchange": f"test-{suffix}",
                   "rpc_timeout": 20},
        conductor={"topic": f"conductor-{suffix}"},
        scheduler={"topic": f"scheduler-{suffix}", "max_attempts": 2},
        compute_rpc={"topic": f"compute-{suffix}"},
        image={"store_driver": "memory"},
        DEFAULT={"host": f"controller-{suffix}"})
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    notifications: list[tuple[str, dict]] = []
    rt.notify = lambda ctx, event_type, payload: notifications.append((event_type, payload))
    servers = [messaging.rpc_server(conf, conf.conductor.topic, [ConductorManager(rt)]),
               messaging.rpc_server(conf, conf.scheduler.topic, [SchedulerManager(rt)])]
    for server in servers:
        server.start()
    built = Stack(conf, rt, ConductorAPI(conf), notifications)
    yield built
    for server in servers:
        server.stop()
        server.wait()
    messaging.cleanup()
    _remove_from_bus(conf, built.compute_hosts)
    store.reset()
    db_base.reset()


class Cloud:
    """One test's hosts and servers, and the API's side of every request."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.rt = stack.rt
        self.agents: dict[str, FakeAgent] = {}
        self.hosts: list[str] = []

    # ------------------------------------------------------------------ hosts
    def add_host(self, memory_mb: int = 1024, vcpus: int = 4, disk_gb: int = 20,
                 agent: bool = True) -> str:
        host = f"h-{uuidlib.uuid4().hex[:8]}"
        self.hosts.append(host)
        self.stack.compute_hosts.append(host)
        seed.compute_host(self.rt, host, vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)
        if agent:
            self.agents[host] = FakeAgent(self.stack.conf, host, self._upload).start()
        return host

    def _upload(self, ctx: RequestContext, image_id: str, chunks) -> None:
        image_data.upload(self.rt, ctx, image_id, chunks)

    def host_down(self, host: str) -> None:
        """The host's agent stops and its heartbeat is older than service_down_time."""
        agent = self.agents.pop(host, None)
        if agent is not None:
            agent.stop()
        with self.rt.db.session() as session:
            session.execute(sa.update(Service).where(
                Service.host == host, Service.binary == COMPUTE_BINARY).values(
                last_seen_at=db_base.utcnow().replace(year=2000)))
        assert not any(s.up for s in services.list_(self.rt, COMPUTE_BINARY, host))

    def close(self) -> None:
        for agent in self.agents.values():
            agent.stop()
        # Later tests must never schedule onto this test's hosts.
        with self.rt.db.session() as session:
            session.execute(sa.update(Service).where(Service.host.in_(self.hosts)).values(
                forced_down=True, disabled=True))

    # ---------------------------------------------------------------- requests
    def boot(self, flavor: dict[str, Any], image_id: str | None = None, count: int = 1,
             **request: Any) -> list[str]:
        """What POST /servers does: rows, action, cast."""
        ctx = seed.user_ctx()
        image_id = image_id or seed.image(self.rt)
        uuids = [seed.instance(self.rt, ctx, flavor, image_id, launch_index=index)
                 for index in range(count)]
        spec = seed.request_spec(flavor, image_id, count, **request)
        self.stack.conductor.build_instances(ctx, uuids, spec)
        return uuids

    def boot_active(self, flavor: dict[str, Any], image_id: str | None = None) -> str:
        uuid = self.boot(flavor, image_id)[0]
        self.wait_state(uuid, states.ACTIVE)
        return uuid

    def act(self, uuid: str, action: str, **params: Any) -> RequestContext:
        """What a server action does: state check, guarded task, action row, cast."""
        ctx = seed.user_ctx()
        row = self.row(uuid)
        rule = states.check(action, uuid, row.vm_state, row.task_state)
        assert instances.update(self.rt, ctx, uuid, {"task_state": rule.sets_task},
                                [row.task_state]) is not None, \
            f"{uuid} left task {row.task_state} under the test: {self.row(uuid).task_state}"
        seed.new_action(self.rt, ctx, uuid, action)
        self.stack.conductor.run_instance_action(ctx, uuid, action, params)
        return ctx

    def delete(self, uuid: str) -> RequestContext:
        ctx = seed.user_ctx()
        row = self.row(uuid)
        states.check("delete", uuid, row.vm_state, row.task_state)
        assert instances.update(self.rt, ctx, uuid, {"task_state": states.DELETING},
                                [row.task_state]) is not None
        seed.new_action(self.rt, ctx, uuid, "delete")
        self.stack.conductor.delete_instance(ctx, uuid)
        return ctx

    # ------------------------------------------------------------------ checks
    def row(self, uuid: str):
        return instances.get(self.rt, uuid)

    def wait_state(self, uuid: str, vm_state: str, task_state: str | None = None,
                   timeout: float = 30.0):
        def reached():
            row = self.row(uuid)
            return row if (row.vm_state, row.task_state) == (vm_state, task_state) else None
        return wait_for(reached, timeout, f"{uuid} to be {vm_state}/{task_state} "
                                          f"(is {self.row(uuid).vm_state}/"
                                          f"{self.row(uuid).task_state})")

    def allocations(self, consumer: str) -> list[dict[str, Any]]:
        return claims.allocations(self.rt, consumer)

    def events(self, uuid: str) -> list[str]:
        return [event for event, payload in self.stack.notifications
                if payload.get("uuid") == uuid and event != "instance.update"]

    def updates(self, uuid: str) -> list[dict[str, Any]]:
        return [payload["state_update"] for event, payload in self.stack.notifications
                if payload.get("uuid") == uuid and event == "instance.update"]


@pytest.fixture
def cloud(stack):
    test_cloud = Cloud(stack)
    yield test_cloud
    test_cloud.close()


@pytest.fixture
def flavor(stack):
    return seed.flavor(stack.rt, memory_mb=128, vcpus=1, root_gb=1)
