"""A stand-in for the network service's agent RPC: canned desired state, real bus.

It holds a tiny model (networks, subnets, ports, security groups, routers, floating
IPs) and answers exactly the calls of common.rpc.network in exactly their shapes, from
a real oslo.messaging server on the test's own exchange. Tests change the model and
notify the agents through the real NetworkAgentNotifier, as the network service will.
"""

from __future__ import annotations

import ipaddress
import random
import threading
import uuid
from typing import Any

from common import messaging


def new_id() -> str:
    return str(uuid.uuid4())


def new_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


class FakeNetworkServer:
    """The model plus the RPC endpoint (its public methods named as the RPC calls)."""

    def __init__(self, host: str):
        self.host = host
        self.lock = threading.RLock()
        self.networks: dict[str, dict[str, Any]] = {}
        self.subnets: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.routers: dict[str, dict[str, Any]] = {}
        self.fips: dict[str, dict[str, Any]] = {}
        self.tunnel_peers: list[dict[str, str]] = []
        self.reports: list[dict[str, Any]] = []
        self.statuses: dict[str, str] = {}
        self.calls: list[str] = []
        self._next_ip: dict[str, int] = {}

    # -- the model ---------------------------------------------------------------------

    def add_network(self, cidr: str, *, network_type: str = "vxlan",
                    physical_network: str | None = None, segmentation_id: int | None = None,
                    mtu: int = 1450, enable_dhcp: bool = True, gateway: bool = True,
                    dns: list[str] | None = None, host_routes: list[dict] | None = None,
                    project_id: str = "") -> tuple[str, str]:
        """A network with one IPv4 subnet; returns (network id, subnet id)."""
        with self.lock:
            net_id, subnet_id = new_id(), new_id()
            net = ipaddress.ip_network(cidr)
            if segmentation_id is None and network_type == "vxlan":
                segmentation_id = random.randrange(1000, 60000)
            self.networks[net_id] = {"id": net_id, "mtu": mtu, "network_type": network_type,
                                     "physical_network": physical_network,
                                     "segmentation_id": segmentation_id,
                                     "project_id": project_id}
            self.subnets[subnet_id] = {
                "id": subnet_id, "network_id": net_id, "cidr": cidr, "ip_version": 4,
                "gateway_ip": str(net.network_address + 1) if gateway else None,
                "enable_dhcp": enable_dhcp, "dns_nameservers": list(dns or []),
                "host_routes": list(host_routes or []),
                "allocation_pools": [{"start": str(net.network_address + 2),
                                      "end": str(net.broadcast_address - 1)}]}
            self._next_ip[subnet_id] = 10
            return net_id, subnet_id

    def allocate_ip(self, subnet_id: str) -> str:
        with self.lock:
            net = ipaddress.ip_network(self.subnets[subnet_id]["cidr"])
            self._next_ip[subnet_id] += 1
            return str(net.network_address + self._next_ip[subnet_id])

    def add_port(self, subnet_id: str, *, ip: str | None = None,
                 device_owner: str = "compute:nova", device_id: str | None = None,
                 security_group_ids: list[str] | None = None, project_id: str = "",
                 port_security_enabled: bool = True, host: str | None = None,
                 allowed_address_pairs: list[dict] | None = None) -> dict[str, Any]:
        with self.lock:
            subnet = self.subnets[subnet_id]
            net = self.networks[subnet["network_id"]]
            port = {
                "id": new_id(), "mac_address": new_mac(), "network_id": net["id"],
                "device_owner": device_owner, "device_id": device_id or new_id(),
                "admin_state_up": True, "status": "DOWN",
                "binding_host": self.host if host is None else host, "mtu": net["mtu"],
                "network_type": net["network_type"],
                "physical_network": net["physical_network"],
                "segmentation_id": net["segmentation_id"],
                "fixed_ips": [{"subnet_id": subnet_id,
                               "ip_address": ip or self.allocate_ip(subnet_id)}],
                "port_security_enabled": port_security_enabled,
                "security_group_ids": list(security_group_ids or []),
                "allowed_address_pairs": list(allowed_address_pairs or []),
                "project_id": project_id,
            }
            self.ports[port["id"]] = port
            return port

    def add_group(self, *, default_rules: bool = True) -> str:
        """A security group; with default_rules the standard default group's rules
        (egress anywhere, ingress from members)."""
        with self.lock:
            group_id = new_id()
            self.groups[group_id] = {"id": group_id, "rules": []}
            if default_rules:
                self.add_rule(group_id, "egress")
                self.add_rule(group_id, "ingress", remote_group_id=group_id)
            return group_id

    def add_rule(self, group_id: str, direction: str, protocol: str | None = None,
                 port_min: int | None = None, port_max: int | None = None,
                 remote_ip_prefix: str | None = None,
                 remote_group_id: str | None = None) -> str:
        with self.lock:
            rule = {"id": new_id(), "direction": direction, "ethertype": "IPv4",
                    "protocol": protocol, "port_range_min": port_min,
                    "port_range_max": port_max, "remote_ip_prefix": remote_ip_prefix,
                    "remote_group_id": remote_group_id}
            self.groups[group_id]["rules"].append(rule)
            return rule["id"]

    def delete_rule(self, group_id: str, rule_id: str) -> None:
        with self.lock:
            rules = self.groups[group_id]["rules"]
            rules[:] = [r for r in rules if r["id"] != rule_id]

    def add_router(self, external_subnet_id: str | None = None,
                   enable_snat: bool = True) -> str:
        with self.lock:
            router_id = new_id()
            self.routers[router_id] = {"id": router_id, "admin_state_up": True,
                                       "enable_snat": enable_snat, "host": self.host,
                                       "gw_port_id": None, "interface_ids": [],
                                       "routes": []}
            if external_subnet_id:
                gw = self.add_port(external_subnet_id, device_owner="network:router_gateway",
                                   device_id=router_id)
                self.routers[router_id]["gw_port_id"] = gw["id"]
            return router_id

    def add_interface(self, router_id: str, subnet_id: str) -> dict[str, Any]:
        with self.lock:
            gateway = self.subnets[subnet_id]["gateway_ip"]
            port = self.add_port(subnet_id, ip=gateway, device_id=router_id,
                                 device_owner="network:router_interface")
            self.routers[router_id]["interface_ids"].append(port["id"])
            return port

    def add_floating_ip(self, external_subnet_id: str, port_id: str) -> str:
        with self.lock:
            fip = {"id": new_id(), "floating_ip_address": self.allocate_ip(external_subnet_id),
                   "port_id": port_id,
                   "fixed_ip_address": self.ports[port_id]["fixed_ips"][0]["ip_address"]}
            self.fips[fip["id"]] = fip
            return fip["floating_ip_address"]

    def delete_port(self, port_id: str) -> None:
        with self.lock:
            self.ports.pop(port_id, None)
            for router in self.routers.values():
                if port_id in router["interface_ids"]:
                    router["interface_ids"].remove(port_id)

    def clear(self) -> None:
        """Delete everything (as a user deleting every router, port and network)."""
        with self.lock:
            for store in (self.networks, self.subnets, self.ports, self.groups, self.routers,
                          self.fips):
                store.clear()

    # -- views -------------------------------------------------------------------

    def _with_subnets(self, port: dict[str, Any]) -> dict[str, Any]:
        ids = {f["subnet_id"] for f in port["fixed_ips"]}
        return dict(port, subnets=[dict(self.subnets[s]) for s in ids if s in self.subnets])

    def _group_view(self, group_id: str) -> dict[str, Any]:
        group = self.groups[group_id]
        members: dict[str, list[str]] = {}
        for rule in group["rules"]:
            remote = rule["remote_group_id"]
            if remote:
                members[remote] = sorted(
                    f["ip_address"] for p in self.ports.values()
                    if remote in p["security_group_ids"] for f in p["fixed_ips"])
        return {"id": group_id, "rules": [dict(r) for r in group["rules"]],
                "member_ips": members}

    # -- the RPC calls (names and arguments as in common.rpc.network) ----------------

    def report_state(self, ctx, host, binary, agent_type, configurations):
        with self.lock:
            self.reports.append({"host": host, "binary": binary, "agent_type": agent_type,
                                 "configurations": configurations})

    def update_port_status(self, ctx, port_ids, status, host):
        with self.lock:
            for port_id in port_ids:
                self.statuses[port_id] = status
                if port_id in self.ports:
                    self.ports[port_id]["status"] = status

    def get_ovs_state(self, ctx, host, port_ids=None):
        with self.lock:
            self.calls.append("get_ovs_state")
            mine = {p["id"]: p for p in self.ports.values() if p["binding_host"] == host}
            wanted = mine if port_ids is None else {i: mine[i] for i in port_ids if i in mine}
            removed = [] if port_ids is None else [i for i in port_ids if i not in mine]
            ports = [{k: v for k, v in p.items() if k != "project_id"}
                     for p in wanted.values()]
            groups = {g for p in ports for g in p["security_group_ids"] if g in self.groups}
            return {"ports": ports, "removed": removed,
                    "security_groups": {g: self._group_view(g) for g in groups},
                    "tunnel_peers": list(self.tunnel_peers)}

    def _dhcp_port(self, net_id: str, host: str) -> dict[str, Any]:
        for port in self.ports.values():
            if port["network_id"] == net_id and port["device_owner"] == "network:dhcp":
                return port
        subnets = [s for s in self.subnets.values()
                   if s["network_id"] == net_id and s["enable_dhcp"]]
        port = self.add_port(subnets[0]["id"], device_owner="network:dhcp",
                             device_id=f"dhcp-{host}", host=host,
                             ip=str(ipaddress.ip_network(subnets[0]["cidr"]).network_address
                                    + 2))
        return port

    def get_dhcp_state(self, ctx, host, network_ids=None):
        with self.lock:
            self.calls.append("get_dhcp_state")
            out = []
            for net_id, net in self.networks.items():
                if network_ids is not None and net_id not in network_ids:
                    continue
                subnets = [dict(s) for s in self.subnets.values() if s["network_id"] == net_id]
                if not any(s["enable_dhcp"] for s in subnets):
                    continue
                dhcp_port = self._dhcp_port(net_id, host)
                out.append({"id": net_id, "mtu": net["mtu"], "subnets": subnets,
                            "ports": [dict(p) for p in self.ports.values()
                                      if p["network_id"] == net_id],
                            "dhcp_port": dict(dhcp_port)})
            return out

    def get_routers(self, ctx, host, router_ids=None):
        with self.lock:
            self.calls.append("get_routers")
            out = []
            for router_id, router in self.routers.items():
                if router["host"] != host or (router_ids is not None
                                              and router_id not in router_ids):
                    continue
                interfaces = [self._with_subnets(self.ports[i])
                              for i in router["interface_ids"] if i in self.ports]
                gw = self.ports.get(router["gw_port_id"] or "")
                nets = {p["network_id"] for p in interfaces}
                fips = [dict(f) for f in self.fips.values() if f["port_id"] in self.ports
                        and self.ports[f["port_id"]]["network_id"] in nets]
                out.append({"id": router_id, "admin_state_up": router["admin_state_up"],
                            "enable_snat": router["enable_snat"],
                            "gw_port": self._with_subnets(gw) if gw else None,
                            "interfaces": interfaces, "routes": list(router["routes"]),
                            "floating_ips": fips})
            return out

    def get_instance_for_address(self, ctx, ip_address, network_id=None, router_id=None):
        with self.lock:
            nets = {network_id} if network_id else set()
            if router_id and router_id in self.routers:
                nets |= {self.ports[i]["network_id"]
                         for i in self.routers[router_id]["interface_ids"] if i in self.ports}
            for port in self.ports.values():
                if port["network_id"] in nets and port["device_owner"].startswith("compute:") \
                        and any(f["ip_address"] == ip_address for f in port["fixed_ips"]):
                    return {"instance_id": port["device_id"], "project_id": port["project_id"]}
            return None


def serve(conf, fake: FakeNetworkServer):
    """Start the fake's RPC server on [network_rpc] server_topic; returns the server."""
    server = messaging.rpc_server(conf, conf.network_rpc.server_topic, [fake],
                                  server=f"fake-{uuid.uuid4().hex[:6]}")
    server.start()
    return server
