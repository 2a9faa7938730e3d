"""In-memory stand-ins for the OVS bridges and the network service."""

from __future__ import annotations

import itertools
from typing import Any

from agents.network import ovs
from agents.network.ovs_flows import T_CANARY


class FakeBridge:
    """A bridge: ports with ofports, tags and ids; the last flow table given."""

    registry: dict[str, FakeBridge] = {}
    _ofports = itertools.count(1)

    def __init__(self, name: str):
        self.name = name
        self.exists = False
        self.port_data: dict[str, dict[str, Any]] = {}
        self.flows: list[str] = []
        self.replaced = 0

    @classmethod
    def get(cls, name: str) -> FakeBridge:
        if name not in cls.registry:
            cls.registry[name] = cls(name)
        return cls.registry[name]

    def ensure(self, fail_mode: str = "secure") -> None:
        self.exists = True

    def delete(self) -> None:
        self.exists = False

    def plug(self, name: str, iface_id: str | None = None, type: str = "",
             **other: Any) -> None:
        self.port_data[name] = {"ofport": next(self._ofports), "type": type,
                                "external_ids": {"iface-id": iface_id} if iface_id else {},
                                "tag": None, "other_config": {}, **other}

    def add_port(self, name: str, *, type: str | None = None, external_ids=None, options=None,
                 tag=None, other_config=None) -> None:
        if name not in self.port_data:
            self.plug(name, (external_ids or {}).get("iface-id"), type or "")

    def add_patch_port(self, name: str, peer: str) -> None:
        self.add_port(name, type="patch")

    def add_vxlan_port(self, name: str, remote_ip: str, local_ip: str,
                       dst_port: int = 4789) -> None:
        self.add_port(name, type="vxlan")

    def del_port(self, name: str) -> None:
        self.port_data.pop(name, None)

    def set_port(self, name: str, tag: int, other_config=None, remove_keys=()) -> None:
        data = self.port_data[name]
        data["tag"] = tag
        data["other_config"].update(other_config or {})
        for key in remove_keys:
            data["other_config"].pop(key, None)

    def set_ports(self, changes) -> None:
        for name, tag, other_config, remove_keys in changes:
            self.set_port(name, tag, other_config, remove_keys)

    def ports(self) -> dict[str, ovs.OvsPort]:
        return {name: ovs.OvsPort(name=name, ofport=d["ofport"], type=d["type"],
                                  external_ids=dict(d["external_ids"]), tag=d["tag"],
                                  other_config=dict(d["other_config"]))
                for name, d in self.port_data.items()}

    def replace_flows(self, flows) -> None:
        self.flows = list(flows)
        self.replaced += 1

    def dump_flows(self, match: str | None = None) -> list[ovs.Flow]:
        flows = ovs.parse_flows("\n".join(f.replace(",actions=", " actions=")
                                          for f in self.flows))
        if match == f"table={T_CANARY}":
            return [f for f in flows if f.table == T_CANARY]
        return flows


class FakeServer:
    """The calls of common.rpc.network with canned answers; records the casts."""

    def __init__(self) -> None:
        self.ovs_state: dict[str, Any] = {"ports": [], "removed": [], "security_groups": {},
                                          "tunnel_peers": []}
        self.dhcp: list[dict[str, Any]] = []
        self.routers: list[dict[str, Any]] = []
        self.statuses: list[tuple[list[str], str]] = []
        self.reports: list[dict[str, Any]] = []
        self.requests: list[tuple[str, Any]] = []
        self.fail: Exception | None = None

    def _check(self) -> None:
        if self.fail is not None:
            raise self.fail

    def get_ovs_state(self, ctx, host, port_ids=None):
        self.requests.append(("ovs", port_ids))
        self._check()
        if port_ids is None:
            return self.ovs_state
        ports = [p for p in self.ovs_state["ports"] if p["id"] in port_ids]
        found = {p["id"] for p in ports}
        return dict(self.ovs_state, ports=ports,
                    removed=[p for p in port_ids if p not in found])

    def update_port_status(self, ctx, port_ids, status, host):
        self.statuses.append((list(port_ids), status))

    def report_state(self, ctx, host, binary, agent_type, configurations):
        self.reports.append({"binary": binary, "configurations": configurations})

    def get_dhcp_state(self, ctx, host, network_ids=None):
        self.requests.append(("dhcp", network_ids))
        self._check()
        return [n for n in self.dhcp if network_ids is None or n["id"] in network_ids]

    def get_routers(self, ctx, host, router_ids=None):
        self.requests.append(("l3", router_ids))
        self._check()
        return [r for r in self.routers if router_ids is None or r["id"] in router_ids]

    def get_instance_for_address(self, ctx, ip_address, network_id=None, router_id=None):
        self.requests.append(("instance", (ip_address, network_id, router_id)))
        self._check()
        return {"instance_id": "i-1", "project_id": "p-1"} if ip_address == "10.0.0.5" \
            else None
