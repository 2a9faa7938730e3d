"""Interface detach (``server remove port`` / ``server remove network``): the guest lets
go of the NIC first, then the port is released.

The API checked that the port is attached, that the server may change, and recorded
the ``detach_interface`` action. Order matters: a port released while the guest still
had the NIC would leave a tap on br-int that the OVS agent no longer knows (dead VLAN),
and a NIC the guest cannot release (no PCI hot-unplug in its kernel) keeps its port, so
what the API shows stays what the guest has. A failure ends the action with an Error
event saying why; the server itself is not put in ERROR (it still runs as before).
"""

from __future__ import annotations

import logging

import oslo_messaging

from common.context import RequestContext
from controller.conductor import actions, instances, networking
from controller.network import compute_ports
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)

EVENT = "conductor_detach_interface"
AGENT_TIMEOUT = 120  # s: the agent itself gives the guest [compute] interface_detach_timeout


def _reason(error: Exception) -> str:
    if isinstance(error, oslo_messaging.RemoteError):
        return error.value or error.exc_type or "error"
    return str(error) or type(error).__name__


def detach_interface(rt: Runtime, ctx: RequestContext, uuid: str, port_id: str) -> bool:
    """Unplug port_id from the server's guest, then release the port. True when done."""
    row = instances.get(rt, uuid)
    if row is None or row.deleted:
        LOG.info("detach of port %s skipped: instance %s is gone (its delete releases "
                 "the ports)", port_id, uuid)
        return False
    vif = networking.vif_of(rt, uuid, port_id)
    if vif is None:
        LOG.info("port %s is no longer attached to %s; nothing to detach", port_id, uuid)
        actions.finish(rt, ctx, uuid)
        return True
    actions.event(rt, ctx, uuid, EVENT, "start", host=row.host)
    try:
        if row.host:
            rt.compute_api.detach_interface(ctx, row.host, uuid, vif, timeout=AGENT_TIMEOUT)
        compute_ports.unbind(rt, ctx, port_id, uuid)
    except Exception as error:  # noqa: BLE001 - any failure leaves the port attached
        reason = _reason(error)
        LOG.warning("detaching port %s from %s failed: %s", port_id, uuid, reason)
        actions.event(rt, ctx, uuid, EVENT, "finish", host=row.host, result=actions.ERROR,
                      traceback=f"Failed to detach port {port_id}: {reason}")
        actions.finish(rt, ctx, uuid, error=True)
        return False
    actions.event(rt, ctx, uuid, EVENT, "finish", host=row.host, result=actions.SUCCESS)
    actions.finish(rt, ctx, uuid)
    instances.notify(rt, ctx, uuid, "instance.interface_detach.end", {"port_id": port_id})
    LOG.info("detached port %s from instance %s", port_id, uuid)
    return True
