"""The instance metadata service: the EC2-style tree and the OpenStack JSON documents.

Only a request the metadata proxy signed is served: X-Instance-ID plus
X-Instance-ID-Signature, the hex HMAC-SHA256 of the instance id keyed with
[metadata] shared_secret. The proxy learns the instance from the address the request
came from (get_instance_for_address), so a guest can only read its own metadata.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from typing import Any

import sqlalchemy as sa

from controller import exceptions
from controller.db.models.network import Network, Port, Subnet
from controller.db.models.servers import Instance
from controller.network import common, compute_ports
from controller.runtime import Runtime

EC2_VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "latest"]
OPENSTACK_VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest"]
EC2_KEYS = ["ami-id", "ami-launch-index", "ami-manifest-path", "hostname", "instance-id",
            "instance-type", "local-hostname", "local-ipv4", "placement/", "public-hostname",
            "public-ipv4", "public-keys/", "reservation-id", "security-groups"]


class Forbidden(exceptions.Forbidden):
    message = "Forbidden"


class NotFound(exceptions.NotFound):
    message = "Not Found"


def sign(secret: str, instance_id: str) -> str:
    """The signature the metadata proxy sends with instance_id."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def authenticate(rt: Runtime, instance_id: str | None, signature: str | None,
                 project_id: str | None = None) -> Instance:
    """The instance a correctly signed request is about.

    :raises Forbidden: no secret configured, no or bad signature, project mismatch.
    :raises NotFound: no such (live) instance.
    """
    secret = rt.conf.metadata.shared_secret
    if not secret or not instance_id or not signature:
        raise Forbidden()
    if not hmac.compare_digest(sign(secret, instance_id), signature.strip().lower()):
        raise Forbidden()
    with rt.db.session() as session:
        instance = session.get(Instance, instance_id) if len(instance_id) <= 36 else None
        if instance is None or instance.deleted:
            raise NotFound()
        if project_id and project_id != instance.project_id:
            raise Forbidden()
        return instance


def _user_data(instance: Instance) -> bytes | None:
    if not instance.user_data:
        return None
    try:
        return base64.b64decode(instance.user_data, validate=False)
    except (binascii.Error, ValueError):
        return instance.user_data.encode()


def _ports(rt: Runtime, instance: Instance) -> list[tuple[Port, Network, list[Subnet]]]:
    with rt.db.session() as session:
        rows = list(session.scalars(sa.select(Port).where(
            Port.device_id == instance.uuid,
            Port.device_owner.startswith(common.COMPUTE_PREFIX)).order_by(Port.created_at,
                                                                          Port.id)))
        result = []
        for port in rows:
            network = session.get(Network, port.network_id)
            ids = [a.subnet_id for a in port.fixed_ips]
            subnets = list(session.scalars(sa.select(Subnet).where(Subnet.id.in_(ids)))) \
                if ids else []
            result.append((port, network, subnets))
        return result


def _hostname(instance: Instance) -> str:
    return instance.hostname or instance.display_name or instance.uuid


def _ec2_values(rt: Runtime, instance: Instance) -> dict[str, Any]:
    addresses = compute_ports.addresses(rt, [instance.uuid])[instance.uuid]
    flat = [a for entries in addresses.values() for a in entries]
    fixed = [a["addr"] for a in flat if a["OS-EXT-IPS:type"] == "fixed" and a["version"] == 4]
    floating = [a["addr"] for a in flat if a["OS-EXT-IPS:type"] == "floating"]
    groups = [g.name for g in compute_ports.security_groups_of(rt, instance.uuid)]
    hostname = _hostname(instance)
    return {"ami-id": instance.image_ref or "", "ami-launch-index": str(instance.launch_index),
            "ami-manifest-path": "", "hostname": hostname,
            "instance-id": instance.uuid, "instance-type": (instance.flavor or {}).get("name",
                                                                                      ""),
            "local-hostname": hostname, "local-ipv4": fixed[0] if fixed else "",
            "placement/": "availability-zone", "public-hostname": hostname,
            "public-ipv4": floating[0] if floating else "",
            "public-keys/": f"0={instance.key_name}" if instance.key_data else "",
            "reservation-id": instance.reservation_id or "",
            "security-groups": "\n".join(groups)}


def _ec2(rt: Runtime, instance: Instance, parts: list[str]) -> str | bytes:
    if not parts:
        return "meta-data/\nuser-data" if instance.user_data else "meta-data/"
    if parts[0] == "user-data" and len(parts) == 1:
        data = _user_data(instance)
        if data is None:
            raise NotFound()
        return data
    if parts[0] != "meta-data":
        raise NotFound()
    values = _ec2_values(rt, instance)
    rest = parts[1:]
    if not rest:
        return "\n".join(EC2_KEYS)
    if rest == ["placement"]:
        return "availability-zone"
    if rest == ["placement", "availability-zone"]:
        return instance.availability_zone or "nova"
    if rest[0] == "public-keys" and instance.key_data:
        if len(rest) == 1:
            return values["public-keys/"]
        if rest[1] == "0" and len(rest) == 2:
            return "openssh-key"
        if rest[1:] == ["0", "openssh-key"]:
            return instance.key_data
        raise NotFound()
    if len(rest) == 1 and rest[0] in values and not rest[0].endswith("/"):
        return values[rest[0]]
    raise NotFound()


def meta_data(rt: Runtime, instance: Instance) -> dict[str, Any]:
    keys = ({instance.key_name or "0": instance.key_data} if instance.key_data else {})
    return {"uuid": instance.uuid, "name": instance.display_name,
            "hostname": _hostname(instance), "launch_index": instance.launch_index,
            "availability_zone": instance.availability_zone or "nova",
            "project_id": instance.project_id,
            "meta": {m.key: m.value for m in instance.metadata_items},
            "public_keys": keys,
            "keys": [{"name": name, "type": "ssh", "data": data}
                     for name, data in keys.items()],
            "devices": []}


def network_data(rt: Runtime, instance: Instance) -> dict[str, Any]:
    """cloud-init's network_data.json: links (ports), networks (addresses), DNS."""
    links, networks, services = [], [], []
    for port, network, subnets in _ports(rt, instance):
        link_id = f"tap{port.id[:11]}"
        links.append({"id": link_id, "vif_id": port.id, "type": "ovs", "mtu": network.mtu,
                      "ethernet_mac_address": port.mac_address})
        by_id = {s.id: s for s in subnets}
        for allocation in port.fixed_ips:
            subnet = by_id.get(allocation.subnet_id)
            if subnet is None:
                continue
            cidr = ipaddress.ip_network(subnet.cidr)
            routes = [{"network": str(ipaddress.ip_network(r["destination"]).network_address),
                       "netmask": str(ipaddress.ip_network(r["destination"]).netmask),
                       "gateway": r["nexthop"]} for r in subnet.host_routes]
            if subnet.gateway_ip:
                default = "0.0.0.0" if cidr.version == 4 else "::"
                routes.insert(0, {"network": default, "netmask": default,
                                  "gateway": subnet.gateway_ip})
            kind = "ipv4_dhcp" if cidr.version == 4 and subnet.enable_dhcp else \
                f"ipv{cidr.version}"
            networks.append({"id": f"network{len(networks)}", "link": link_id,
                             "type": kind, "ip_address": allocation.ip_address,
                             "netmask": str(cidr.netmask), "routes": routes,
                             "network_id": network.id,
                             "services": [{"type": "dns", "address": d}
                                          for d in subnet.dns_nameservers]})
            services.extend({"type": "dns", "address": d} for d in subnet.dns_nameservers
                            if {"type": "dns", "address": d} not in services)
    return {"links": links, "networks": networks, "services": services}


def _openstack(rt: Runtime, instance: Instance, parts: list[str]) -> str | bytes:
    if not parts:
        names = ["meta_data.json", "network_data.json", "vendor_data.json",
                 "vendor_data2.json"]
        return "\n".join(names + (["user_data"] if instance.user_data else []))
    if len(parts) != 1:
        raise NotFound()
    name = parts[0]
    if name == "meta_data.json":
        return json.dumps(meta_data(rt, instance))
    if name == "network_data.json":
        return json.dumps(network_data(rt, instance))
    if name in ("vendor_data.json", "vendor_data2.json"):
        return "{}"
    if name == "user_data":
        data = _user_data(instance)
        if data is None:
            raise NotFound()
        return data
    raise NotFound()


def serve(rt: Runtime, instance: Instance, path: str) -> str | bytes:
    """The document at path (relative to the metadata root) for instance.

    :raises NotFound: no such document.
    """
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "\n".join(EC2_VERSIONS[:-1] + ["latest"])
    if parts[0] == "openstack":
        if len(parts) == 1:
            return "\n".join(OPENSTACK_VERSIONS)
        if parts[1] not in OPENSTACK_VERSIONS:
            raise NotFound()
        return _openstack(rt, instance, parts[2:])
    if parts[0] not in EC2_VERSIONS:
        raise NotFound()
    return _ec2(rt, instance, parts[1:])
