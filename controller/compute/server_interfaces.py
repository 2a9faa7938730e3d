"""A server's interfaces (os-interface: ``server add/remove port``, ``server add/remove
network``): list, show, attach, detach.

Attach is synchronous, as in Nova (the answer carries the new interface): the state
and lock are checked and the ``attach_interface`` action recorded in one guarded
update, the port is allocated (or the user's port bound) on the server's host, then the
agent hot-plugs it; if the agent fails, the port is released again and the caller gets
the agent's reason. Detach is checked here and carried out by the conductor (202): the
guest lets go of the NIC first, then the port is released.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.compute import actions, rpc, server_networks, states
from controller.db.models.network import Port
from controller.db.models.servers import Instance
from controller.network import common as network_common
from controller.network import compute_ports
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

# Nova's check_instance_state of interface attach and detach (no task is set).
RULE = states.Action(frozenset({states.ACTIVE, states.PAUSED, states.STOPPED}),
                     frozenset({None}), None)
AGENT_TIMEOUT = 120  # s: QEMU answers a hot-plug in well under a second; TCG is slow


def list_(rt: Runtime, instance: Instance) -> list[Port]:
    """The server's ports, in plug order."""
    with rt.db.session() as session:
        return list(session.scalars(sa.select(Port).where(
            Port.device_id == instance.uuid,
            Port.device_owner.startswith(network_common.COMPUTE_PREFIX))
            .order_by(Port.created_at, Port.id)))


def get(rt: Runtime, instance: Instance, port_id: str) -> Port:
    """:raises NotFound: the server has no such port."""
    port = next((p for p in list_(rt, instance) if p.id == port_id), None)
    if port is None:
        raise exceptions.NotFound(f"Port {str(port_id)[:64]} is not attached")
    return port


def attach(rt: Runtime, ctx: RequestContext, instance: Instance, network_id: str | None,
           port_id: str | None, fixed_ip: str | None) -> Port:
    """Give the running (or paused, or stopped) server one more NIC.

    :raises NotFound / BadRequest / Conflict / Forbidden: see
        ``server_networks.interface_request``; Conflict also for a locked server or
        one in another state, or when the agent refused the device.
    :raises ServiceUnavailable: the agent did not answer.
    """
    request = server_networks.interface_request(rt, ctx, instance.project_id, network_id,
                                                port_id, fixed_ip)
    row = actions.transition(rt, ctx, instance.uuid, "attach_interface", rule=RULE,
                             record_as="attach_interface")
    if not row.host:
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise exceptions.Conflict(f"Instance {instance.uuid} has no host to attach an "
                                  "interface on.")
    try:
        vif = compute_ports.allocate_for_instance(
            rt, ctx, instance.uuid, instance.project_id, [request], None, row.host,
            row.availability_zone or "nova")[0]
    except Exception:
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise
    try:
        rpc.call("attach the interface", row.host, rt.compute_api.attach_interface, ctx,
                 row.host, instance.uuid, vif, timeout=AGENT_TIMEOUT)
    except Exception:
        LOG.warning("attaching port %s to %s failed; releasing the port", vif["id"],
                    instance.uuid)
        _release(rt, ctx, instance.uuid, vif["id"])
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise
    actions.finish(rt, instance.uuid, ctx.request_id)
    rt.notify(ctx, "instance.interface_attach.end",
              {"uuid": instance.uuid, "port_id": vif["id"]})
    return get(rt, instance, vif["id"])


def _release(rt: Runtime, ctx: RequestContext, instance_uuid: str, port_id: str) -> None:
    try:
        compute_ports.unbind(rt, ctx, port_id, instance_uuid)
    except Exception:  # noqa: BLE001 - the caller reports the original failure
        LOG.exception("could not release port %s of %s", port_id, instance_uuid)


def detach(rt: Runtime, ctx: RequestContext, instance: Instance, port_id: str) -> None:
    """Start detaching port_id (the conductor unplugs it, then releases the port).

    :raises NotFound: the port is not attached. :raises Conflict: locked, or a state
        interfaces cannot change in. :raises ServiceUnavailable: the bus is down.
    """
    get(rt, instance, port_id)
    actions.transition(rt, ctx, instance.uuid, "detach_interface", rule=RULE,
                       record_as="detach_interface")
    try:
        rpc.cast("detach_interface", rt.conductor_api.detach_interface, ctx, instance.uuid,
                 port_id)
    except exceptions.ServiceUnavailable:
        actions.finish(rt, instance.uuid, ctx.request_id, error=True)
        raise


def view(port: Port) -> dict[str, Any]:
    """Nova's interfaceAttachment of a port."""
    return {"port_id": port.id, "net_id": port.network_id, "mac_addr": port.mac_address,
            "port_state": port.status,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                          for a in port.fixed_ips]}
