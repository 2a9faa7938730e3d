"""NetworkRpcManager: the server side of common.rpc.network.NetworkServerAPI.

Thin on purpose: each method hands over to the service module that owns the logic, so
the agents, the API and the tests all exercise the same functions.
"""

from __future__ import annotations

import logging
from typing import Any

from common.context import RequestContext
from controller.network import agent_state, agents
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)


class NetworkRpcManager:
    """RPC endpoint for the network agents (topic [network_rpc] server_topic)."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def report_state(self, ctxt: RequestContext, host: str, binary: str, agent_type: str,
                     configurations: dict[str, Any]) -> None:
        """Cast: an agent's heartbeat."""
        agents.report_state(self.rt, host, binary, agent_type, configurations)

    def get_ovs_state(self, ctxt: RequestContext, host: str,
                      port_ids: list[str] | None = None) -> dict[str, Any]:
        """Call: the ports (and their security groups) the OVS agent on host wires."""
        return agent_state.ovs_state(self.rt, host, port_ids)

    def update_port_status(self, ctxt: RequestContext, port_ids: list[str], status: str,
                           host: str) -> None:
        """Cast: the OVS agent wired (ACTIVE) or unwired (DOWN) ports."""
        agent_state.update_port_status(self.rt, port_ids, status, host)

    def get_dhcp_state(self, ctxt: RequestContext, host: str,
                       network_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Call: the networks host's DHCP agent serves."""
        return agent_state.dhcp_state(self.rt, _context(ctxt), host, network_ids)

    def get_routers(self, ctxt: RequestContext, host: str,
                    router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Call: the routers host's L3 agent hosts."""
        return agent_state.routers_state(self.rt, _context(ctxt), host, router_ids)

    def get_instance_for_address(self, ctxt: RequestContext, ip_address: str,
                                 network_id: str | None = None,
                                 router_id: str | None = None) -> dict[str, Any] | None:
        """Call: which server holds ip_address (for the metadata proxy)."""
        return agent_state.instance_for_address(self.rt, ip_address, network_id,
                                                router_id)


def _context(ctxt: Any) -> RequestContext:
    """The agents act as the service: their ports are made with admin rights."""
    request_id = getattr(ctxt, "request_id", None)
    ctx = RequestContext.admin()
    if request_id:
        ctx.request_id = request_id
    return ctx
