"""Servers' ports through a real conductor and scheduler over RabbitMQ, with the real
network service layer on SQLite and PostgreSQL and fake compute hosts: allocation after
scheduling with the user's context, the vifs in the spec, unwinding of failed
allocations and builds, rebinding on a reschedule, release on delete, and the
interface detach workflow."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import states
from controller.db.models.network import Port
from controller.db.models.servers import Instance, InstanceAction, InstanceFault
from controller.network import networks, notify, ports, subnets
from tests.functional.conductor.conftest import wait_for
from tests.functional.network_api.conftest import RecordingNotifier
from tests.unit.conductor import seed


@dataclasses.dataclass
class Lan:
    network_id: str
    ctx: RequestContext


@pytest.fixture(scope="module")
def lan(stack) -> Lan:
    setattr(stack.rt, notify.ATTRIBUTE, RecordingNotifier())
    ctx = seed.user_ctx()
    network = networks.create(stack.rt, ctx, {"name": "cond-lan"})
    subnets.create(stack.rt, ctx, {"network_id": network.id, "cidr": "10.88.0.0/24",
                                   "ip_version": 4})
    return Lan(network.id, ctx)


def _boot(cloud, flavor, requested: list[dict]) -> str:
    """What the API does for a create with networks: the row with the checked request."""
    ctx = seed.user_ctx()
    image_id = seed.image(cloud.rt)
    uuid = seed.instance(cloud.rt, ctx, flavor, image_id)
    with cloud.rt.db.session() as session:
        session.execute(sa.update(Instance).where(Instance.uuid == uuid).values(
            system_metadata={"network_request": "requested",
                             "requested_networks": requested,
                             "security_groups": ["default"]}))
    cloud.stack.conductor.build_instances(ctx, [uuid], seed.request_spec(flavor, image_id))
    return uuid


def _ports_of(cloud, uuid: str) -> list[Port]:
    with cloud.rt.db.session() as session:
        return list(session.scalars(sa.select(Port).where(Port.device_id == uuid)
                                    .order_by(Port.created_at, Port.id)))


def _port(cloud, port_id: str) -> Port | None:
    with cloud.rt.db.session() as session:
        return session.get(Port, port_id)


def _user_port(cloud, lan: Lan) -> str:
    return ports.create(cloud.rt, lan.ctx, {"network_id": lan.network_id}).id


def test_build_allocates_ports_on_the_host_and_delete_releases_them(cloud, flavor, lan):
    host = cloud.add_host()
    mine = _user_port(cloud, lan)
    uuid = _boot(cloud, flavor, [{"network_id": lan.network_id, "fixed_ip": "10.88.0.20"},
                                 {"port_id": mine}])
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert [u["new_task_state"] for u in cloud.updates(uuid)] == ["networking", "spawning",
                                                                  None]
    # NICs follow the ports' creation order: the user's port existed before the server.
    given, made = _ports_of(cloud, uuid)
    assert given.id == mine and made.auto_delete and not given.auto_delete
    assert [a.ip_address for a in made.fixed_ips] == ["10.88.0.20"]
    for port in (made, given):
        assert (port.binding_host_id, port.device_owner) == (host, "compute:nova")
    assert [b.security_group_id for b in made.security_group_bindings]
    # The agent got both ports, in order, and the network_data of the metadata service.
    instance = cloud.agents[host].driver.domains[uuid].instance
    assert [vif.id for vif in instance.vifs] == [mine, made.id]
    assert [vif.mac for vif in instance.vifs] == [given.mac_address, made.mac_address]
    assert instance.network_data["networks"][1]["ip_address"] == "10.88.0.20"
    assert [link["vif_id"] for link in instance.network_data["links"]] == [mine, made.id]
    assert row.host == host
    cloud.delete(uuid)
    cloud.wait_state(uuid, states.DELETED)
    assert _port(cloud, made.id) is None  # compute made it: deleted
    kept = _port(cloud, mine)  # the user's: unbound and kept
    assert (kept.device_id, kept.device_owner, kept.binding_host_id) == ("", "", "")


def test_failed_allocation_is_error_not_rescheduled(cloud, flavor, lan):
    host = cloud.add_host()
    taken = ports.create(cloud.rt, lan.ctx, {"network_id": lan.network_id,
                                             "fixed_ips": [{"ip_address": "10.88.0.30"}]})
    uuid = _boot(cloud, flavor, [{"network_id": lan.network_id},
                                 {"network_id": lan.network_id, "fixed_ip": "10.88.0.30"}])
    row = cloud.wait_state(uuid, states.ERROR)
    assert row.host is None and cloud.allocations(uuid) == []

    def fault():
        with cloud.rt.db.session() as session:
            return session.scalars(sa.select(InstanceFault).where(
                InstanceFault.instance_uuid == uuid)).first()

    fault = wait_for(fault, what="the fault")  # written just after the state
    assert fault.message.startswith("Failed to allocate the network(s), not rescheduling")
    assert "10.88.0.30" in fault.message and fault.code == 500
    assert _ports_of(cloud, uuid) == []  # all or nothing: the first port is not left
    assert "build_and_run_instance" not in cloud.agents[host].calls
    wait_for(lambda: "instance.create.error" in cloud.events(uuid))
    ports.delete(cloud.rt, lan.ctx, taken.id)


def test_reschedule_rebinds_the_same_ports(cloud, flavor, lan):
    first = cloud.add_host(memory_mb=2048)   # the scheduler prefers the most free RAM
    second = cloud.add_host(memory_mb=1024)
    cloud.agents[first].fail["build_and_run_instance"] = "qemu exploded"
    uuid = _boot(cloud, flavor, [{"network_id": lan.network_id}])
    row = cloud.wait_state(uuid, states.ACTIVE)
    assert row.host == second
    [port] = _ports_of(cloud, uuid)  # no second port was made for the second attempt
    assert port.binding_host_id == second
    assert [v.id for v in cloud.agents[second].driver.domains[uuid].instance.vifs] == \
        [port.id]


def test_failed_build_releases_the_ports(cloud, flavor, lan):
    hosts = [cloud.add_host(memory_mb=2048), cloud.add_host(memory_mb=1024)]
    for host in hosts:
        cloud.agents[host].fail["build_and_run_instance"] = "no luck"
    mine = _user_port(cloud, lan)
    uuid = _boot(cloud, flavor, [{"network_id": lan.network_id}, {"port_id": mine}])
    cloud.wait_state(uuid, states.ERROR)  # [scheduler] max_attempts = 2 here
    wait_for(lambda: _ports_of(cloud, uuid) == [], what="the ports to be released")
    assert _port(cloud, mine).device_id == ""


def test_detach_interface(cloud, flavor, lan):
    host = cloud.add_host()
    extra = _user_port(cloud, lan)
    uuid = _boot(cloud, flavor, [{"network_id": lan.network_id}, {"port_id": extra}])
    cloud.wait_state(uuid, states.ACTIVE)
    made = next(p.id for p in _ports_of(cloud, uuid) if p.auto_delete)
    agent = cloud.agents[host]
    # A guest that does not let go: the port stays attached, the action says why.
    agent.fail["detach_interface"] = "the guest kept the NIC"
    ctx = seed.user_ctx()
    seed.new_action(cloud.rt, ctx, uuid, "detach_interface")
    cloud.stack.conductor.detach_interface(ctx, uuid, extra)
    wait_for(lambda: _action(cloud, uuid, ctx.request_id).finish_time is not None)
    action = _action(cloud, uuid, ctx.request_id)
    assert action.message == "Error"
    assert "the guest kept the NIC" in action.events[-1].traceback
    assert _port(cloud, extra).device_id == uuid
    del agent.fail["detach_interface"]
    for port_id in (extra, made):
        ctx = seed.user_ctx()
        seed.new_action(cloud.rt, ctx, uuid, "detach_interface")
        cloud.stack.conductor.detach_interface(ctx, uuid, port_id)
        wait_for(lambda ctx=ctx: _action(cloud, uuid, ctx.request_id).finish_time)
        assert _action(cloud, uuid, ctx.request_id).message is None
    assert agent.driver.domains[uuid].instance.vifs == ()
    assert _port(cloud, extra).device_id == "" and _port(cloud, made) is None


def test_port_statuses(cloud, lan, stack):
    port_id = _user_port(cloud, lan)
    answer = stack.conductor.port_statuses(seed.user_ctx(), [port_id, "not-a-port"])
    assert answer == {port_id: "DOWN"}


def _action(cloud, uuid: str, request_id: str) -> InstanceAction:
    with cloud.rt.db.session() as session:
        action = session.scalars(sa.select(InstanceAction).where(
            InstanceAction.instance_uuid == uuid,
            InstanceAction.request_id == request_id)).one()
        action.events  # noqa: B018 - loaded while the session is open
        return action


def test_reconciliation_releases_ports_of_deleted_servers(cloud, flavor, lan):
    """A delete whose port release failed: the periodic pass finishes the job."""
    from controller.conductor import reconcile
    from controller.network import compute_ports

    uuid = seed.instance(cloud.rt, lan.ctx, flavor, seed.image(cloud.rt),
                         vm_state=states.DELETED, task_state=None, deleted=True)
    [vif] = compute_ports.allocate_for_instance(cloud.rt, lan.ctx, uuid, seed.PROJECT,
                                                [{"network_id": lan.network_id}])
    report = reconcile.run_once(cloud.rt)
    assert report.servers_with_ports_released == 1
    assert _port(cloud, vif["id"]) is None
    assert reconcile.run_once(cloud.rt).servers_with_ports_released == 0
