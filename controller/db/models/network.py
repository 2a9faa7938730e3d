"""Network v2.0 tables: networks and segments, subnets, ports and their IP allocations,
routers, floating IPs, security groups and rules, network agents.

The database enforces what must hold under concurrency: an address is allocated once per
subnet (primary key of ip_allocations), a MAC once per network, a segmentation id once
per (type, physical network), one default security group per project, one agent of a
type per host. Services pick a candidate, insert, and pick again on IntegrityError.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

UUID = sa.String(36)  # Neutron's ids are dashed UUIDs
PROJECT = sa.String(255)
IP = sa.String(64)


class _Standard:
    """Neutron's standard attributes: description, timestamps, revision number."""

    description: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow,
                                                                  onupdate=utcnow)
    revision_number: orm.Mapped[int] = orm.mapped_column(default=0)


class Network(_Standard, Base):
    __tablename__ = "networks"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    shared: orm.Mapped[bool] = orm.mapped_column(default=False)
    external: orm.Mapped[bool] = orm.mapped_column(default=False)
    mtu: orm.Mapped[int] = orm.mapped_column()
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(default=True)

    segment: orm.Mapped[NetworkSegment | None] = orm.relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True)
    subnets: orm.Mapped[list[Subnet]] = orm.relationship(
        lazy="selectin", order_by="Subnet.created_at", viewonly=True)


class NetworkSegment(Base):
    """A network's L2 segment. The primary key is what keeps segmentation ids unique:
    physical_network is '' for vxlan and segmentation_id 0 for flat."""

    __tablename__ = "network_segments"
    network_type: orm.Mapped[str] = orm.mapped_column(sa.String(16), primary_key=True)
    physical_network: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    segmentation_id: orm.Mapped[int] = orm.mapped_column(primary_key=True,
                                                         autoincrement=False)
    network_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("networks.id", ondelete="CASCADE"), unique=True)


class Subnet(_Standard, Base):
    __tablename__ = "subnets"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    ip_version: orm.Mapped[int] = orm.mapped_column()
    cidr: orm.Mapped[str] = orm.mapped_column(IP)
    gateway_ip: orm.Mapped[str | None] = orm.mapped_column(IP)
    enable_dhcp: orm.Mapped[bool] = orm.mapped_column(default=True)
    ipv6_ra_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    ipv6_address_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    # [{"start", "end"}], [address, ...], [{"destination", "nexthop"}]: small lists that
    # only ever change with the subnet.
    allocation_pools: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    dns_nameservers: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    host_routes: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)


class Port(_Standard, Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address",
                                          name="uq_ports_network_mac"),)
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")
    device_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    device_owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="",
                                                      index=True)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    binding_host_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="",
                                                         index=True)
    binding_vif_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="unbound")
    binding_vif_details: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    binding_vnic_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="normal")
    binding_profile: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    allowed_address_pairs: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    # The port goes away with its device: compute created it for a server (not a port
    # the user made and handed in, which is only unbound).
    auto_delete: orm.Mapped[bool] = orm.mapped_column(default=False)

    fixed_ips: orm.Mapped[list[IPAllocation]] = orm.relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by="IPAllocation.created_at")
    security_group_bindings: orm.Mapped[list[SecurityGroupPortBinding]] = orm.relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True)


class IPAllocation(Base):
    """One address of one port. The (subnet, address) primary key is the guard that makes
    concurrent allocation safe."""

    __tablename__ = "ip_allocations"
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(IP, primary_key=True)
    port_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Router(_Standard, Base):
    __tablename__ = "routers"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    enable_snat: orm.Mapped[bool] = orm.mapped_column(default=True)
    gw_port_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="SET NULL"))
    # The L3 agent host that hosts the router (None until one is scheduled).
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)

    gw_port: orm.Mapped[Port | None] = orm.relationship(lazy="selectin")
    routes: orm.Mapped[list[RouterRoute]] = orm.relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(RouterRoute.destination, RouterRoute.nexthop)")


class RouterPort(Base):
    """A port of a router: its interfaces (network:router_interface) and gateway."""

    __tablename__ = "router_ports"
    router_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("routers.id", ondelete="CASCADE"), index=True)
    port_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    port_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class RouterRoute(Base):
    __tablename__ = "router_routes"
    router_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    destination: orm.Mapped[str] = orm.mapped_column(IP, primary_key=True)
    nexthop: orm.Mapped[str] = orm.mapped_column(IP, primary_key=True)


class FloatingIP(_Standard, Base):
    __tablename__ = "floating_ips"
    __table_args__ = (sa.UniqueConstraint("floating_network_id", "fixed_port_id",
                                          "fixed_ip_address", name="uq_floating_ips_fixed"),)
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    floating_network_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("networks.id"), index=True)
    # The external network's port that holds the address (device_owner network:floatingip).
    floating_port_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="CASCADE"), unique=True)
    floating_ip_address: orm.Mapped[str] = orm.mapped_column(IP)
    fixed_port_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="SET NULL"), index=True)
    fixed_ip_address: orm.Mapped[str | None] = orm.mapped_column(IP)
    router_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, sa.ForeignKey("routers.id", ondelete="SET NULL"), index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")


class SecurityGroup(_Standard, Base):
    __tablename__ = "security_groups"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    stateful: orm.Mapped[bool] = orm.mapped_column(default=True)

    rules: orm.Mapped[list[SecurityGroupRule]] = orm.relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="SecurityGroupRule.security_group_id",
        order_by="SecurityGroupRule.created_at")


class DefaultSecurityGroup(Base):
    """The project's `default` group; the primary key makes its creation race-free."""

    __tablename__ = "default_security_groups"
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"), unique=True)


class SecurityGroupRule(_Standard, Base):
    __tablename__ = "security_group_rules"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"), index=True)
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, sa.ForeignKey("security_groups.id", ondelete="CASCADE"), index=True)
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    port_range_min: orm.Mapped[int | None] = orm.mapped_column()
    port_range_max: orm.Mapped[int | None] = orm.mapped_column()
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(IP)


class SecurityGroupPortBinding(Base):
    __tablename__ = "security_group_port_bindings"
    port_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    # No cascade: a group in use by a port cannot be deleted (SecurityGroupInUse).
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, sa.ForeignKey("security_groups.id"), primary_key=True, index=True)


class NetworkAgent(Base):
    """What a network agent reported about itself; its heartbeat also lands in services."""

    __tablename__ = "network_agents"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host",
                                          name="uq_network_agents_type_host"),)
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    agent_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    topic: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    configurations: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    started_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    heartbeat_timestamp: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
