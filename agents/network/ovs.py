"""Open vSwitch through ovs-vsctl and ovs-ofctl: bridges, ports, flows.

Every bridge Stratus creates uses the userspace datapath (``datapath_type=netdev``, the
only one this kind of host has) and speaks OpenFlow 1.4, which ``replace_flows`` needs for
atomic bundles. Names and values are validated before they reach a command line; command
failures become ``HostCommandError`` here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agents.network import validate
from agents.network.exception import HostCommandError
from common import processutils

LOG = logging.getLogger(__name__)

PROTOCOLS = "OpenFlow10,OpenFlow13,OpenFlow14"
_VSCTL_TIMEOUT = 10
_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
# Values ovs-vsctl takes as bare strings: ids, MACs, addresses, names, numbers.
_VALUE_RE = re.compile(r"^[A-Za-z0-9_.:/-]+$")
# Fields of a dump-flows line that describe the flow rather than what it matches.
_FLOW_META = {"cookie", "table", "priority", "duration", "n_packets", "n_bytes",
              "idle_age", "hard_age", "idle_timeout", "hard_timeout", "reset_counts",
              "send_flow_rem", "check_overlap", "importance"}


@dataclasses.dataclass(frozen=True)
class OvsPort:
    """A port of a bridge with its (first) interface."""

    name: str
    ofport: int
    type: str
    external_ids: Mapping[str, str]
    tag: int | None
    other_config: Mapping[str, str]

    @property
    def iface_id(self) -> str | None:
        return self.external_ids.get("iface-id")


@dataclasses.dataclass(frozen=True)
class Flow:
    """One line of ``ovs-ofctl dump-flows``."""

    cookie: int
    table: int
    priority: int
    match: str
    actions: str


def vsctl(args: list[str], timeout: int = _VSCTL_TIMEOUT) -> str:
    """Run ovs-vsctl with args.

    :raises HostCommandError: ovs-vsctl failed (or ovsdb-server did not answer).
    """
    try:
        return processutils.execute(["ovs-vsctl", f"--timeout={timeout}", *args],
                                    timeout=timeout + 5)
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"ovs-vsctl failed: {exc}") from exc


def ofctl(args: list[str], stdin: str | None = None) -> str:
    """Run ovs-ofctl (OpenFlow 1.4) with args.

    :raises HostCommandError: ovs-ofctl failed.
    """
    try:
        return processutils.execute(["ovs-ofctl", "-O", "OpenFlow14", *args], input=stdin,
                                    timeout=120)
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"ovs-ofctl failed: {exc}") from exc


def _key(key: str) -> str:
    """A map key safe for ovs-vsctl syntax.

    :raises HostCommandError: the key has other characters than [a-z0-9_-].
    """
    if not key or set(key) - _KEY_CHARS:
        raise HostCommandError(f"refusing OVS map key {key!r}")
    return key


def _kv(mapping: Mapping[str, Any] | None, column: str) -> list[str]:
    """``column:key=value`` arguments, keys and values checked for ovs-vsctl syntax."""
    out = []
    for key, value in (mapping or {}).items():
        text = str(value)
        if not _VALUE_RE.match(text):
            raise HostCommandError(f"refusing {column} entry {key!r}={text!r}")
        out.append(f"{column}:{_key(key)}={text}")
    return out


def _ovs_map(value: Any) -> dict[str, str]:
    if isinstance(value, list) and value and value[0] == "map":
        return {str(k): str(v) for k, v in value[1]}
    return {}


def _ovs_int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _tag(tag: int) -> int:
    """A port tag: a VLAN id or the dead VLAN 4095."""
    return 4095 if tag == 4095 else validate.vlan(tag, "port tag")


def list_bridges() -> list[str]:
    """Names of every bridge on this host.

    :raises HostCommandError: ovs-vsctl failed.
    """
    return vsctl(["list-br"]).split()


def parse_flows(text: str) -> list[Flow]:
    """Flows of a ``dump-flows`` output (with or without statistics)."""
    flows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or " actions=" not in line and not line.startswith("actions="):
            continue
        head, _, actions = line.partition("actions=")
        meta: dict[str, str] = {}
        match = []
        for token in (t.strip() for t in head.replace(", ", ",").split(",")):
            if not token:
                continue
            key, _, value = token.partition("=")
            if key in _FLOW_META:
                meta[key] = value
            else:
                match.append(token)
        flows.append(Flow(cookie=int(meta.get("cookie", "0"), 16),
                          table=int(meta.get("table", "0")),
                          priority=int(meta.get("priority", "32768")),
                          match=",".join(match), actions=actions.strip()))
    return flows


class Bridge:
    """One OVS bridge."""

    def __init__(self, name: str):
        self.name = validate.ifname(name, "bridge name")

    def __repr__(self) -> str:
        return f"Bridge({self.name})"

    def exists(self) -> bool:
        """:raises HostCommandError: ovs-vsctl failed."""
        return self.name in list_bridges()

    def ensure(self, fail_mode: str = "secure") -> None:
        """Create the bridge when missing and (re)assert its settings.

        fail_mode ``secure``: no flows means no traffic, so until the agent programs the
        bridge nothing leaks between networks.

        :raises HostCommandError: ovs-vsctl failed.
        """
        if fail_mode not in ("secure", "standalone"):
            raise HostCommandError(f"unknown fail mode {fail_mode!r}")
        vsctl(["--may-exist", "add-br", self.name, "--", "set", "Bridge", self.name,
               "datapath_type=netdev", f"fail_mode={fail_mode}", f"protocols={PROTOCOLS}"])

    def delete(self) -> None:
        """Delete the bridge (nothing when it does not exist).

        :raises HostCommandError: ovs-vsctl failed.
        """
        vsctl(["--if-exists", "del-br", self.name])

    def add_port(self, name: str, *, type: str | None = None,
                 external_ids: Mapping[str, str] | None = None,
                 options: Mapping[str, str] | None = None, tag: int | None = None,
                 other_config: Mapping[str, str] | None = None) -> None:
        """Add a port (idempotent: an existing one gets the given settings).

        :raises HostCommandError: ovs-vsctl failed or a value is unsafe.
        """
        name = validate.ifname(name, "port name")
        iface = _kv(external_ids, "external_ids") + _kv(options, "options")
        if type:
            if type not in ("internal", "patch", "vxlan", "system"):
                raise HostCommandError(f"unknown interface type {type!r}")
            iface.append(f"type={'' if type == 'system' else type}")
        args = ["--may-exist", "add-port", self.name, name]
        if iface:
            args += ["--", "set", "Interface", name, *iface]
        port = _kv(other_config, "other_config")
        if tag is not None:
            port.append(f"tag={_tag(tag)}")
        if port:
            args += ["--", "set", "Port", name, *port]
        vsctl(args)

    def add_patch_port(self, name: str, peer: str) -> None:
        """A patch port whose other end is the port named peer (on another bridge).

        :raises HostCommandError: ovs-vsctl failed.
        """
        self.add_port(name, type="patch", options={"peer": validate.ifname(peer)})

    def add_vxlan_port(self, name: str, remote_ip: str, local_ip: str,
                       dst_port: int = 4789) -> None:
        """A VXLAN tunnel port to remote_ip whose VNI the flows set (key=flow).

        :raises HostCommandError: ovs-vsctl failed.
        """
        self.add_port(name, type="vxlan", options={
            "remote_ip": validate.ip(remote_ip, "tunnel peer"),
            "local_ip": validate.ip(local_ip, "tunnel local_ip"),
            "key": "flow", "dst_port": str(int(dst_port))})

    def del_port(self, name: str) -> None:
        """Remove a port (nothing when it is not there).

        :raises HostCommandError: ovs-vsctl failed.
        """
        vsctl(["--if-exists", "del-port", self.name, validate.ifname(name, "port name")])

    def set_port(self, name: str, tag: int, other_config: Mapping[str, str] | None = None,
                 remove_keys: Iterable[str] = ()) -> None:
        """Set a port's VLAN tag (4095: the dead VLAN) and our bookkeeping in its
        other_config (remove_keys: entries to drop).

        :raises HostCommandError: ovs-vsctl failed or a value is unsafe.
        """
        self.set_ports([(name, tag, other_config, remove_keys)])

    def set_ports(self, changes: Iterable[tuple[str, int, Mapping[str, str] | None,
                                                Iterable[str]]]) -> None:
        """``set_port`` for many ports in one OVSDB transaction.

        :raises HostCommandError: ovs-vsctl failed or a value is unsafe.
        """
        args: list[str] = []
        for name, tag, other_config, remove_keys in changes:
            name = validate.ifname(name, "port name")
            args += ["--", "set", "Port", name, f"tag={_tag(tag)}",
                     *_kv(other_config, "other_config")]
            for key in remove_keys:
                args += ["--", "remove", "Port", name, "other_config", _key(key)]
        if args:
            vsctl(args, timeout=30)

    def ports(self) -> dict[str, OvsPort]:
        """The bridge's ports (the bridge's own LOCAL port excluded), by name.

        :raises HostCommandError: ovs-vsctl failed.
        """
        out = vsctl(["--format=json", "--", "--columns=name,ofport,type,external_ids",
                     "list", "Interface", "--", "list-ports", self.name, "--",
                     "--columns=name,tag,other_config", "list", "Port"])
        lines = [line for line in out.splitlines() if line.strip()]
        if len(lines) < 2:
            raise HostCommandError(f"unexpected ovs-vsctl output for {self.name}: {out!r}")
        ifaces = {row[0]: row for row in json.loads(lines[0])["data"]}
        ports = {row[0]: row for row in json.loads(lines[-1])["data"]}
        result = {}
        for name in lines[1:-1]:
            name = name.strip()
            iface = ifaces.get(name)
            port = ports.get(name)
            if iface is None or port is None:
                continue
            result[name] = OvsPort(name=name, ofport=_ovs_int(iface[1]) or -1, type=iface[2],
                                   external_ids=_ovs_map(iface[3]), tag=_ovs_int(port[1]),
                                   other_config=_ovs_map(port[2]))
        return result

    def replace_flows(self, flows: Iterable[str]) -> None:
        """Make the bridge's flow table exactly flows, atomically (one OpenFlow bundle).

        OVS diffs the table itself: flows already present stay untouched (no packet is
        dropped while an agent resyncs), missing ones are added, others deleted.

        :raises HostCommandError: ovs-ofctl refused the flows or failed.
        """
        text = "\n".join(flows) + "\n"
        ofctl(["--bundle", "replace-flows", self.name, "-"], stdin=text)

    def add_flows(self, flows: Iterable[str]) -> None:
        """:raises HostCommandError: ovs-ofctl failed."""
        ofctl(["add-flows", self.name, "-"], stdin="\n".join(flows) + "\n")

    def dump_flows(self, match: str | None = None) -> list[Flow]:
        """The bridge's flows (those matching match, e.g. ``table=3``).

        :raises HostCommandError: ovs-ofctl failed.
        """
        return parse_flows(ofctl(["--no-stats", "dump-flows", self.name]
                                 + ([match] if match else [])))

    def delete_flows(self, match: str) -> None:
        """Delete flows matching match non-strictly (e.g. ``cookie=0x5/-1``).

        :raises HostCommandError: ovs-ofctl failed.
        """
        ofctl(["del-flows", self.name, match])
