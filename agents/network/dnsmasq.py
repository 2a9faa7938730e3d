"""dnsmasq per network: its files (static hosts, options) and its process.

One dnsmasq per network runs inside ``qdhcp-<network>`` on the DHCP port, answering only
the ports the network service knows (``static`` ranges: a MAC gets its fixed IP and
nothing else does). Host and option changes are files plus SIGHUP (dnsmasq re-reads
them); a changed command line (subnets, MTU, interface) restarts it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import signal
import stat
import time
from collections.abc import Mapping, Sequence
from typing import Any

from agents.network import ip_lib, validate
from agents.network.exception import HostCommandError

LOG = logging.getLogger(__name__)

METADATA_CIDR = "169.254.169.254/32"
METADATA_IP = "169.254.169.254"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The agent-wide options dnsmasq files depend on."""

    domain: str = "openstacklocal"
    lease_seconds: int = 86400
    dns_servers: tuple[str, ...] = ()
    isolated_metadata: bool = True
    log_dhcp: bool = False


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything one dnsmasq is given: its argv (without the namespace) and files."""

    args: tuple[str, ...]
    files: Mapping[str, str]


def dhcp_subnets(network: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The network's IPv4 subnets with DHCP on (IPv6 is left to SLAAC)."""
    return [s for s in network.get("subnets") or []
            if s.get("enable_dhcp", True) and int(s.get("ip_version", 4)) == 4]


def _hostname(ip: str) -> str:
    return "host-" + ip.replace(".", "-").replace(":", "-")


def _router_ip(network: Mapping[str, Any], subnet_id: str) -> str | None:
    """The address of a router interface on subnet_id, when the subnet has a router."""
    for port in network.get("ports") or []:
        if not str(port.get("device_owner") or "").startswith("network:router_interface"):
            continue
        for fixed in port.get("fixed_ips") or []:
            if fixed.get("subnet_id") == subnet_id:
                return validate.ip(fixed["ip_address"])
    return None


def _routes(network: Mapping[str, Any], subnet: Mapping[str, Any], dhcp_ip: str | None,
            settings: Settings) -> list[tuple[str, str]]:
    """Classless static routes (option 121) of a subnet: its host routes, the metadata
    route (via the DHCP port on a subnet without a router, via the router otherwise),
    and then the default route, which clients given option 121 take from there only."""
    routes = [(validate.cidr(r["destination"], "host route"), validate.ip(r["nexthop"]))
              for r in subnet.get("host_routes") or []]
    dests = {d for d, _ in routes}
    router = _router_ip(network, subnet["id"])
    if METADATA_CIDR not in dests:
        if router:
            routes.append((METADATA_CIDR, router))
        elif settings.isolated_metadata and dhcp_ip:
            routes.append((METADATA_CIDR, dhcp_ip))
    gateway = subnet.get("gateway_ip")
    if routes and gateway and "0.0.0.0/0" not in dests:
        routes.append(("0.0.0.0/0", validate.ip(gateway, "gateway")))
    return routes


def render(network: Mapping[str, Any], device: str, state_dir: str,
           settings: Settings) -> Config:
    """dnsmasq's argv and files for network (the shape of ``get_dhcp_state``).

    :raises InvalidInput: an id, address, MAC or CIDR in network is malformed.
    """
    net_id = validate.uuid(network["id"], "network id")
    device = validate.ifname(device)
    subnets = dhcp_subnets(network)
    subnet_ids = {validate.uuid(s["id"], "subnet id") for s in subnets}
    dhcp_port = network.get("dhcp_port") or {}
    dhcp_ips = {f.get("subnet_id"): validate.ip(f["ip_address"])
                for f in dhcp_port.get("fixed_ips") or []}
    path = os.path.join(state_dir, net_id)
    hosts, addn = [], []
    for port in sorted(network.get("ports") or [], key=lambda p: str(p.get("id"))):
        mac = validate.mac(port["mac_address"])
        for fixed in port.get("fixed_ips") or []:
            if fixed.get("subnet_id") not in subnet_ids:
                continue
            addr = validate.ip(fixed["ip_address"])
            name = _hostname(addr)
            hosts.append(f"{mac},{name}.{settings.domain},{addr}")
            addn.append(f"{addr}\t{name}.{settings.domain} {name}")
    opts = []
    args = ["dnsmasq", "--no-hosts", "--no-resolv", "--conf-file=/dev/null",
            f"--pid-file={path}/pid", f"--dhcp-hostsfile={path}/host",
            f"--addn-hosts={path}/addn_hosts", f"--dhcp-optsfile={path}/opts",
            f"--dhcp-leasefile={path}/leases", f"--interface={device}", "--bind-dynamic",
            f"--domain={settings.domain}", "--dhcp-authoritative", f"--log-facility={path}/log"]
    if settings.log_dhcp:
        args.append("--log-dhcp")
    mtu = network.get("mtu")
    leases = 0
    for subnet in sorted(subnets, key=lambda s: s["id"]):
        sid = validate.uuid(subnet["id"], "subnet id")
        net = ipaddress.ip_network(validate.cidr(subnet["cidr"], "subnet CIDR"))
        tag = f"subnet-{sid}"
        leases += net.num_addresses
        args.append(f"--dhcp-range=set:{tag},{net.network_address},static,{net.netmask},"
                    f"{settings.lease_seconds}s")
        gateway = subnet.get("gateway_ip")
        opts.append(f"tag:{tag},option:router" + (f",{validate.ip(gateway)}" if gateway else ""))
        dns = [validate.ip(d, "DNS server") for d in subnet.get("dns_nameservers") or []]
        if dns:
            opts.append(f"tag:{tag},option:dns-server,{','.join(dns)}")
        routes = _routes(network, subnet, dhcp_ips.get(subnet["id"]), settings)
        if routes:
            flat = ",".join(f"{d},{n}" for d, n in routes)
            opts.append(f"tag:{tag},option:classless-static-route,{flat}")
            opts.append(f"tag:{tag},249,{flat}")  # the Windows flavour of option 121
        if mtu:
            opts.append(f"tag:{tag},option:mtu,{int(mtu)}")
    args.append(f"--dhcp-lease-max={max(leases, 16)}")
    args += [f"--server={validate.ip(s, 'DNS server')}" for s in settings.dns_servers]
    files = {"host": _lines(hosts), "addn_hosts": _lines(addn), "opts": _lines(opts)}
    return Config(args=tuple(args), files=files)


def _lines(lines: Sequence[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def check_traversable(path: str) -> None:
    """dnsmasq drops its privileges (to nobody) and re-reads its files as that user:
    every directory above them must let others through.

    :raises HostCommandError: a directory on the path is closed to others.
    """
    current = os.path.abspath(path)
    while True:
        mode = os.stat(current).st_mode
        if not mode & stat.S_IXOTH:
            raise HostCommandError(
                f"dnsmasq (running as nobody) cannot reach its files under {path}: "
                f"{current} has mode {stat.S_IMODE(mode):04o}; give it o+x or choose "
                "another [dhcp_agent] state_dir")
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


class Process:
    """The dnsmasq of one network: its state directory and its process."""

    def __init__(self, network_id: str, state_dir: str, ns: str):
        self.network_id = validate.uuid(network_id, "network id")
        self.path = os.path.join(state_dir, self.network_id)
        self.ns = ns

    @property
    def pid_file(self) -> str:
        return os.path.join(self.path, "pid")

    def pid(self) -> int | None:
        """The pid of our running dnsmasq (None when it is not running)."""
        try:
            with open(self.pid_file, encoding="ascii") as handle:
                pid = int(handle.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().split(b"\0")
        except (OSError, ValueError):
            return None
        if not cmdline or not cmdline[0].endswith(b"dnsmasq") or \
                f"--pid-file={self.pid_file}".encode() not in cmdline:
            return None
        return pid

    def cmdline(self) -> tuple[str, ...] | None:
        pid = self.pid()
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                return tuple(a.decode() for a in handle.read().split(b"\0") if a)
        except OSError:
            return None

    def _write_files(self, config: Config) -> bool:
        os.makedirs(self.path, mode=0o755, exist_ok=True)
        check_traversable(self.path)
        changed = False
        for name, text in config.files.items():
            target = os.path.join(self.path, name)
            try:
                with open(target, encoding="utf-8") as handle:
                    if handle.read() == text:
                        continue
            except FileNotFoundError:
                pass
            tmp = f"{target}.tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)  # dnsmasq re-reads them after dropping privileges
            os.replace(tmp, target)
            changed = True
        return changed

    def ensure(self, config: Config) -> str:
        """Converge on config: ``started``, ``restarted``, ``reloaded`` or ``unchanged``.

        :raises HostCommandError: dnsmasq failed to start.
        """
        changed = self._write_files(config)
        running = self.cmdline()
        if running is not None and running != config.args:
            LOG.info("dnsmasq of network %s changes its command line; restarting",
                     self.network_id)
            self.stop()
            running = None
            action = "restarted"
        else:
            action = "started"
        if running is None:
            ip_lib.execute_in(self.ns, list(config.args))
            return action
        pid = self.pid()
        if changed and pid is not None:
            os.kill(pid, signal.SIGHUP)
            return "reloaded"
        return "unchanged"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop our dnsmasq (TERM, then KILL after timeout); nothing when not running."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() == pid and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid() == pid:
            LOG.warning("dnsmasq %s ignored SIGTERM; killing it", pid)
            os.kill(pid, signal.SIGKILL)

    def remove_files(self) -> None:
        """Delete the network's state directory."""
        if not os.path.isdir(self.path):
            return
        for name in os.listdir(self.path):
            os.unlink(os.path.join(self.path, name))
        os.rmdir(self.path)

