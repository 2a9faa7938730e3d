"""Helpers for the networking end-to-end tests: what the host sees (ICMP, TCP, namespaces,
OVS ports, dnsmasq), a shell on a guest through its serial console (the console proxy
of ``openstack console url show --serial``), the guests' user data, and a second
project with its own user.

Against another all-in-one than tools/stack.sh's (tests/e2e/private_cloud.py) the
environment says where things are: STRATUS_E2E_PUBLIC_NETWORK, _PUBLIC_GATEWAY (the
host's address on the external network) and _INTEGRATION_BRIDGE.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import uuid

import websocket
import yaml

from tests import processes
from tests.e2e.compute_support import wait_for

PUBLIC_NETWORK = os.environ.get("STRATUS_E2E_PUBLIC_NETWORK", "public")
PUBLIC_GATEWAY = os.environ.get("STRATUS_E2E_PUBLIC_GATEWAY", "172.24.4.1")
INTEGRATION_BRIDGE = os.environ.get("STRATUS_E2E_INTEGRATION_BRIDGE", "br-int")
CLOUDS = os.environ.get("OS_CLIENT_CONFIG_FILE", "/etc/openstack/clouds.yaml")
HELLO_PORT = 8080


def run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


# ----------------------------------------------------------------------- the host
def ping(address: str) -> bool:
    return run(["ping", "-c", "1", "-W", "1", address]).returncode == 0


def hello(address: str, port: int = HELLO_PORT, timeout: float = 3) -> str | None:
    """What the guest's ``nc -ll -e`` server says to a TCP connection, None if refused
    or dropped (a security group drops the SYN: the connect times out)."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            data = b""
            while chunk := conn.recv(256):
                data += chunk
            return data.decode(errors="replace")
    except OSError:
        return None


def namespaces() -> set[str]:
    return set(run(["ip", "netns", "list"]).stdout.split()) - {"(id:"}


def ovs_ports(bridge: str = INTEGRATION_BRIDGE) -> list[str]:
    return run(["ovs-vsctl", "list-ports", bridge]).stdout.split()


def leftovers(network_ids: list[str], router_ids: list[str], port_ids: list[str],
              addresses: list[str]) -> list[str]:
    """What the host still has of these networks, routers, ports and addresses."""
    found = [f"namespace {ns}" for ns in namespaces()
             if any(ns.endswith(ident) for ident in network_ids + router_ids)]
    found += [f"OVS port {p}" for p in ovs_ports()
              if any(port_id[:11] in p for port_id in port_ids)]
    found += [f"dnsmasq {pid}" for net in network_ids for pid in processes.pids("dnsmasq", net)]
    rules = run(["iptables-save"]).stdout
    found += [f"iptables rule for {a}" for a in addresses if a and f"{a}/" in rules]
    return found


# -------------------------------------------------------------------- the guests
def guest_script(peer: str | None, gateway: str | None, isolated_from: list[str]) -> str:
    """User data: read the instance id over 169.254.169.254, serve "hello" on TCP 8080,
    ping the peer and the external gateway, or check that other guests stay out of
    reach; each result is one E2E-... line on the console."""
    lines = ["#!/bin/sh",
             "echo E2E-MD-ID $(wget -q -O - "
             "http://169.254.169.254/latest/meta-data/instance-id)",
             "printf '#!/bin/sh\\necho E2E-HELLO-%s\\n' \"$(hostname)\" > /tmp/hello",
             "chmod +x /tmp/hello",
             f"nc -ll -p {HELLO_PORT} -e /tmp/hello </dev/null >/dev/null 2>&1 &"]
    for name, address, tries in (("PEER", peer, 90), ("SNAT", gateway, 30)):
        if address:
            lines.append(f"ok=FAIL; for i in $(seq {tries}); do "
                         f"if ping -c 1 -W 1 {address} >/dev/null 2>&1; then ok=OK; break; "
                         f"fi; done; echo E2E-{name}-$ok {address}")
    for address in isolated_from:
        lines.append(f"if ping -c 5 -W 1 {address} >/dev/null 2>&1; then "
                     f"echo E2E-REACHED {address}; else echo E2E-UNREACHABLE {address}; fi")
    return "\n".join(lines) + "\n"


class SerialShell:
    """One command at a time on the guest's serial console shell, through the console
    proxy. Results are told apart from the echoed command line by arithmetic the
    guest's shell does ($((1+1)) is typed, 2 is printed)."""

    def __init__(self, cli, server_id: str):
        url = cli.json("console", "url", "show", "--serial", server_id)["url"]
        self.ws = websocket.create_connection(url, timeout=30, subprotocols=["binary"])

    def check(self, condition: str, timeout: float = 40) -> bool:
        """Whether the shell condition (a command list) succeeds on the guest."""
        marker = f"m{uuid.uuid4().hex[:8]}"
        self.ws.send_binary(f"\nif {condition}; then echo {marker}-$((1+1)); else echo "
                            f"{marker}-$((1+0)); fi\n".encode())
        seen = ""
        while f"{marker}-2" not in seen and f"{marker}-1" not in seen:
            seen += self.ws.recv().decode(errors="replace")
        return f"{marker}-2" in seen

    def close(self) -> None:
        self.ws.close()


def reaches(cli, server_id: str, address: str) -> bool:
    """Whether the guest gets the hello of address:8080 over TCP."""
    shell = SerialShell(cli, server_id)
    try:
        return shell.check(f"echo | nc -w 3 {address} {HELLO_PORT} | grep -q E2E-HELLO")
    finally:
        shell.close()


# ----------------------------------------------------------------- a second project
@dataclasses.dataclass
class OtherProject:
    """A project with a member user, driven by the CLI with that user's credentials."""

    name: str
    user: str
    password: str

    def env(self) -> dict[str, str]:
        with open(CLOUDS) as handle:
            auth = yaml.safe_load(handle)["clouds"]["stratus-admin"]["auth"]
        return {"OS_AUTH_URL": auth["auth_url"], "OS_USERNAME": self.user,
                "OS_PASSWORD": self.password, "OS_PROJECT_NAME": self.name,
                "OS_USER_DOMAIN_ID": "default", "OS_PROJECT_DOMAIN_ID": "default",
                "OS_IDENTITY_API_VERSION": "3", "OS_CLOUD": ""}

    def json(self, cli, *args: str):
        return cli.json(*args, cloud=False, extra_env=self.env())

    def run(self, cli, *args: str, check: bool = True):
        return cli.run(*args, cloud=False, extra_env=self.env(), check=check)


def make_other_project(admin_cli, suffix: str) -> OtherProject:
    other = OtherProject(f"e2e-other-{suffix}", f"e2e-user-{suffix}", uuid.uuid4().hex)
    admin_cli.run("project", "create", "--domain", "default", other.name)
    admin_cli.run("user", "create", "--domain", "default", "--project", other.name,
                  "--password", other.password, other.user)
    admin_cli.run("role", "add", "--user", other.user, "--project", other.name, "member")
    return other


def wait_console(cli, server_id: str, text: str, timeout: float = 240) -> str:
    def probe():
        log = cli.run("console", "log", "show", server_id).stdout
        return log if text in log else None
    return wait_for(f"{text!r} on the console of {server_id}", probe, timeout, interval=2)
