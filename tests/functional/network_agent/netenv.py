"""The test network environment: agent configs, agents in threads, fake VMs and an
"external host", and the cleanup that proves nothing was left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from agents.network import conf as agent_conf
from agents.network import ip_lib, namespaces, ovs
from agents.network.dhcp_agent import DhcpAgent
from agents.network.l3_agent import L3Agent
from agents.network.metadata_agent import MetadataAgent
from agents.network.ovs_agent import OvsAgent
from common.rpc.network import NetworkAgentNotifier
from tests import processes

HERE = os.path.dirname(os.path.abspath(__file__))
RESPONDER = os.path.join(HERE, "responder.py")
HOLDER = os.path.join(HERE, "holder.py")
UDHCPC_SCRIPT = os.path.join(HERE, "udhcpc.sh")
SECRET = "functional-test-secret"


def run(argv: list[str], timeout: float = 20, check: bool = False,
        **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check,
                          **kwargs)


def wait_until(what: str, condition: Callable[[], Any], timeout: float = 30,
               interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class AgentThread:
    """An agent's run_forever in a thread, as its daemon would run it."""

    def __init__(self, agent: Any):
        self.agent = agent
        self.thread = threading.Thread(target=agent.run_forever, daemon=True,
                                       name=agent.binary)
        self.thread.start()

    def synced_since(self, count: int) -> bool:
        return self.agent.syncs > count and not self.agent.pending()

    def stop(self) -> None:
        self.agent.request_stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), f"{self.agent.binary} did not stop"


class FakeVM:
    """A namespace on the integration bridge through an OVS internal port carrying the
    port's iface-id, as libvirt plugs a guest's tap."""

    def __init__(self, env: NetEnv, name: str, port: dict[str, Any]):
        self.env = env
        self.port = port
        self.ns = f"{name}-{env.suffix}"
        self.dev = f"tap{port['id'][:11]}"
        self.ip = port["fixed_ips"][0]["ip_address"]
        self.procs: list[subprocess.Popen] = []
        self.lease_dir = os.path.join(env.tmp, self.ns)
        os.makedirs(self.lease_dir, exist_ok=True)
        run(["ip", "netns", "add", self.ns], check=True)
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        run(["ovs-vsctl", "add-port", env.names["int"], self.dev, "--", "set", "Interface",
             self.dev, "type=internal", f"external_ids:iface-id={port['id']}",
             f"external_ids:attached-mac={port['mac_address']}",
             "external_ids:iface-status=active"], check=True)
        run(["ip", "link", "set", self.dev, "netns", self.ns], check=True)
        run(["ip", "-n", self.ns, "link", "set", self.dev, "address", port["mac_address"]],
            check=True)
        run(["ip", "-n", self.ns, "link", "set", self.dev, "mtu", str(port["mtu"]), "up"],
            check=True)

    def sh(self, argv: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
        return run(["ip", "netns", "exec", self.ns, *argv], timeout=timeout)

    def dhcp(self) -> dict[str, str]:
        """Lease an address with busybox udhcpc; returns what the lease said."""
        result = self.sh(["busybox", "udhcpc", "-i", self.dev, "-n", "-q", "-f", "-t", "8",
                          "-T", "1", "-O", "staticroutes", "-O", "mtu", "-s", UDHCPC_SCRIPT],
                         timeout=40)
        assert result.returncode == 0, f"udhcpc failed: {result.stdout}{result.stderr}"
        lease = {}
        for line in result.stdout.splitlines():
            if line.startswith("LEASE "):
                key, _, value = line[6:].partition("=")
                lease[key] = value
        return lease

    def ping(self, ip: str, count: int = 1, wait: int = 2, source: str | None = None) -> bool:
        argv = ["busybox", "ping", "-c", str(count), "-W", str(wait)]
        if source:
            argv += ["-I", source]
        return self.sh(argv + [ip], timeout=count * wait + 10).returncode == 0

    def ping_until(self, ip: str, timeout: float = 20) -> bool:
        return wait_until(f"{self.ns} to ping {ip}", lambda: self.ping(ip, wait=1),
                          timeout=timeout)

    def serve(self, port: int, mode: str | None = None) -> None:
        """A responder on port answering each TCP connection with the peer's address
        (mode ``echo``: keeping connections open and echoing lines; ``udp``: answering
        datagrams)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, RESPONDER,
                                 str(port)] + ([mode] if mode else []),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        self.procs.append(proc)

    def connect(self, ip: str, port: int, wait: int = 3) -> str | None:
        """The peer address the responder at ip:port saw, or None when blocked."""
        result = self.sh(["busybox", "nc", "-w", str(wait), ip, str(port)],
                         timeout=wait + 10)
        text = result.stdout.strip()
        return text[len("peer="):] if text.startswith("peer=") else None

    def udp_probe(self, ip: str, port: int, count: int = 3) -> int:
        """Datagrams answered out of count sent from one socket (one UDP flow)."""
        script = ("import socket,sys\n"
                  "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(1)\n"
                  "n=0\n"
                  f"for _ in range({count}):\n"
                  f"    s.sendto(b'x',('{ip}',{port}))\n"
                  "    try:\n"
                  "        s.recv(100);n+=1\n"
                  "    except OSError:\n"
                  "        pass\n"
                  "print(n)\n")
        result = self.sh([sys.executable, "-c", script], timeout=count * 2 + 10)
        return int(result.stdout.strip() or 0)

    def hold(self, ip: str, port: int) -> subprocess.Popen:
        """A long-lived connection to an echo responder (see holder.py)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, HOLDER, ip,
                                 str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        self.procs.append(proc)
        return proc

    def wget(self, url: str) -> str | None:
        # no -T: busybox 1.35 wget segfaults with a timeout option
        result = self.sh(["busybox", "wget", "-q", "-O", "-", url], timeout=15)
        return result.stdout if result.returncode == 0 else None

    def destroy(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
        run(["ip", "netns", "del", self.ns])
        run(["ovs-vsctl", "--if-exists", "del-port", self.env.names["int"], self.dev])


class ExternalHost(FakeVM):
    """A host on the external network: a namespace on the external bridge."""

    def __init__(self, env: NetEnv, cidr: str):
        self.env = env
        self.ns = f"ext-{env.suffix}"
        self.dev = f"ex{env.suffix}"
        self.ip = cidr.split("/")[0]
        self.procs = []
        run(["ip", "netns", "add", self.ns], check=True)
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        run(["ovs-vsctl", "add-port", env.names["ex"], self.dev, "--", "set", "Interface",
             self.dev, "type=internal"], check=True)
        run(["ip", "link", "set", self.dev, "netns", self.ns], check=True)
        run(["ip", "-n", self.ns, "addr", "add", cidr, "dev", self.dev], check=True)
        run(["ip", "-n", self.ns, "link", "set", self.dev, "up"], check=True)

    def destroy(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
        run(["ip", "netns", "del", self.ns])
        run(["ovs-vsctl", "--if-exists", "del-port", self.env.names["ex"], self.dev])


class NetEnv:
    """Names, configs and the things a test run creates (and removes)."""

    def __init__(self, suffix: str, tmp: str, transport_url: str):
        self.suffix = suffix
        self.tmp = tmp
        self.host = f"net-{suffix}"
        self.exchange = f"stratus-test-{suffix}"
        self.transport_url = transport_url
        self.names = {"int": f"bi-{suffix}", "ex": f"bx-{suffix}", "tun": f"bt-{suffix}"}
        self.marker = namespaces.marker(self.names["int"])
        # dnsmasq runs as nobody: its files must not sit under pytest's 0700 tmp dirs.
        self.state_dir = tempfile.mkdtemp(prefix=f"stratus-dhcp-{suffix}-")
        os.chmod(self.state_dir, 0o755)
        self.metadata_url = "http://127.0.0.1:1/metadata"
        self.fake: Any = None
        self.rpc_server: Any = None
        self.vms: list[FakeVM] = []
        self.threads: list[AgentThread] = []
        self._notifier: NetworkAgentNotifier | None = None

    def overrides(self, **extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {
            "DEFAULT": {"host": self.host, "state_path": self.tmp},
            "messaging": {"transport_url": self.transport_url,
                          "control_exchange": self.exchange, "rpc_timeout": 20},
            "service": {"report_interval": 5},
            # RabbitMQ queues are named after the topic, whatever the exchange: a test
            # run needs topics of its own too, or it shares queues with other runs.
            "network_rpc": {"server_topic": f"stratus-network-{self.suffix}",
                            "ovs_topic": f"stratus-network-ovs-{self.suffix}",
                            "dhcp_topic": f"stratus-network-dhcp-{self.suffix}",
                            "l3_topic": f"stratus-network-l3-{self.suffix}"},
            "ovs": {"integration_bridge": self.names["int"],
                    "tunnel_bridge": self.names["tun"],
                    "bridge_mappings": [f"public:{self.names['ex']}"],
                    "polling_interval": 0.5, "resync_interval": 600},
            "dhcp_agent": {"state_dir": self.state_dir, "resync_interval": 600},
            "l3_agent": {"resync_interval": 600},
            "metadata": {"nova_metadata_url": self.metadata_url, "shared_secret": SECRET,
                         "scan_interval": 0.5},
        }
        for group, values in extra.items():
            out.setdefault(group, {}).update(values)
        return out

    def conf(self, program: str, **extra: dict[str, Any]):
        return agent_conf.make(program, None, self.overrides(**extra))

    @property
    def notifier(self) -> NetworkAgentNotifier:
        if self._notifier is None:
            self._notifier = NetworkAgentNotifier(self.conf("stratus-ovs-agent"))
        return self._notifier

    def ovs_agent(self, **extra: dict[str, Any]) -> OvsAgent:
        return OvsAgent(self.conf("stratus-ovs-agent", **extra))

    def dhcp_agent(self) -> DhcpAgent:
        return DhcpAgent(self.conf("stratus-dhcp-agent"))

    def l3_agent(self) -> L3Agent:
        return L3Agent(self.conf("stratus-l3-agent"))

    def metadata_agent(self) -> MetadataAgent:
        return MetadataAgent(self.conf("stratus-metadata-agent"))

    def start(self, agent: Any) -> AgentThread:
        thread = AgentThread(agent)
        self.threads.append(thread)
        return thread

    def vm(self, name: str, port: dict[str, Any]) -> FakeVM:
        vm = FakeVM(self, name, port)
        self.vms.append(vm)
        return vm

    # -- what is on the host -------------------------------------------------------

    def our_namespaces(self) -> list[str]:
        return [ns for ns in ip_lib.list_namespaces()
                if ns.startswith((namespaces.DHCP_PREFIX, namespaces.ROUTER_PREFIX))
                and namespaces.read_marker(ns) == self.marker]

    def dnsmasq_pids(self) -> list[int]:
        return processes.pids("dnsmasq", self.state_dir)

    def _purge_rabbit(self) -> None:
        """Delete the run's queues and exchanges (named after its suffix): oslo leaves
        RPC queues behind when their servers stop. Best effort."""
        listing = run(["rabbitmqctl", "-q", "list_queues", "name"]) \
            if shutil.which("rabbitmqctl") else None
        if listing is None or listing.returncode:
            return
        queues = [q for q in listing.stdout.split() if self.suffix in q]
        try:
            import amqp

            url = urllib.parse.urlsplit(self.transport_url)
            conn = amqp.Connection(f"{url.hostname}:{url.port or 5672}",
                                   userid=url.username or "guest",
                                   password=url.password or "guest")
            conn.connect()
            channel = conn.channel()
            for queue in queues:
                channel.queue_delete(queue)
            for exchange in [self.exchange] + [f"{t}_fanout" for t in
                                               self.overrides()["network_rpc"].values()]:
                channel.exchange_delete(exchange)
            conn.close()
        except Exception:  # noqa: BLE001 - leftovers in RabbitMQ are untidy, not wrong
            pass

    def cleanup(self) -> None:
        """Stop agents, remove VMs, let fresh agents tear down what is theirs, delete
        the bridges; then anything still there is a leak the test reports."""
        for thread in self.threads:
            if thread.thread.is_alive():
                thread.stop()
        for vm in self.vms:
            vm.destroy()
        leftovers = []
        try:
            if self.fake is not None:
                self.fake.clear()
                dhcp, l3 = self.dhcp_agent(), self.l3_agent()
                for agent in (dhcp, l3):
                    try:
                        agent.run_once()
                    except Exception as exc:  # noqa: BLE001 - report, keep cleaning
                        leftovers.append(f"{agent.binary} cleanup failed: {exc}")
            leftovers += [f"namespace {ns}" for ns in self.our_namespaces()]
            leftovers += [f"dnsmasq {pid}" for pid in self.dnsmasq_pids()]
        finally:
            for ns in self.our_namespaces() + [n for n in ip_lib.list_namespaces()
                                               if n.endswith(f"-{self.suffix}")]:
                run(["ip", "netns", "del", ns])
            for pid in self.dnsmasq_pids():
                os.kill(pid, 9)
            if self.rpc_server is not None:
                self.rpc_server.stop()
                self.rpc_server.wait()
            for name in self.names.values():
                ovs.Bridge(name).delete()
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self._purge_rabbit()
        assert not leftovers, f"left behind: {leftovers}"
