"""OVS agent convergence: time to wire N ports from cold, after a restart, and after a
security group change, on real Open vSwitch (userspace datapath).

    sudo /opt/stratus/dev-network/bin/python benchmarks/network/ovs_converge.py [--ports 500]

Creates private bridges and N OVS internal ports carrying iface-ids (as libvirt plugs
guest taps) spread over networks of 50 ports, all in one default security group (so
every port has a remote-group rule over all N members, the case that is quadratic
without conjunctions), and drives a real OVS agent through RabbitMQ (a fake network
service on its own exchange and topics). Measures, each from the agent's construction
(or the notification) to every port wired with its flows installed:

- cold: a fresh integration bridge, nothing tagged, no flows;
- restart: a new agent (new cookie) over the running bridge: VLANs recovered, every
  flow's cookie rewritten in place, stale flows swept;
- sg_change: one rule added to the group, notified by fanout, applied.

Appends a JSON line to benchmarks/network/results/ovs_converge.jsonl. Needs root and
RabbitMQ (STRATUS_TEST_TRANSPORT_URL, default rabbit://guest:guest@127.0.0.1:5672/).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.network import ovs, ovs_setup  # noqa: E402
from common import messaging  # noqa: E402
from common.context import RequestContext  # noqa: E402
from tests.functional.network_agent import fake_server  # noqa: E402
from tests.functional.network_agent.netenv import NetEnv  # noqa: E402


def _add_ports(bridge: str, ports: list[dict]) -> None:
    """All ports in a few ovs-vsctl transactions (a hypervisor adds them one by one)."""
    for start in range(0, len(ports), 100):
        args = ["ovs-vsctl", "--timeout=60"]
        for port in ports[start:start + 100]:
            name = f"tap{port['id'][:11]}"
            args += ["--", "add-port", bridge, name, "--", "set", "Interface", name,
                     "type=internal", f"external_ids:iface-id={port['id']}",
                     f"external_ids:attached-mac={port['mac_address']}"]
        subprocess.run(args, check=True, capture_output=True, timeout=300)


def _converged(bridge: ovs.Bridge, agent, count: int) -> bool:
    tagged = [p for p in bridge.ports().values() if p.iface_id and p.tag not in (None, 4095)]
    return len(tagged) == count and not agent.pending()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=500)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 2
    ovs_setup.ensure_running()
    url = os.environ.get("STRATUS_TEST_TRANSPORT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
    suffix = uuid.uuid4().hex[:6]
    env = NetEnv(suffix, tempfile.mkdtemp(prefix="stratus-bench-"), url)
    env.fake = fake = fake_server.FakeNetworkServer(env.host)
    env.rpc_server = fake_server.serve(env.conf("stratus-ovs-agent"), fake)
    result: dict = {"date": datetime.datetime.now(datetime.UTC).isoformat(),
                    "ports": args.ports, "host_cpus": os.cpu_count()}
    try:
        group = fake.add_group()
        ports = []
        subnet = None
        for index in range(args.ports):
            if index % 50 == 0:
                _, subnet = fake.add_network(f"10.{100 + index // 50 // 250}."
                                             f"{index // 50 % 250}.0/24", enable_dhcp=False)
            ports.append(fake.add_port(subnet, security_group_ids=[group]))
        agent = env.ovs_agent()
        agent.run_once()  # bridges exist
        int_br = ovs.Bridge(env.names["int"])
        _add_ports(int_br.name, ports)

        started = time.monotonic()
        agent = env.ovs_agent()
        agent.run_once()
        result["cold_seconds"] = round(time.monotonic() - started, 2)
        assert _converged(int_br, agent, args.ports)
        result["flows"] = len(int_br.dump_flows())

        started = time.monotonic()
        agent = env.ovs_agent()  # a restart: new process state, new cookie
        thread = env.start(agent)
        while not (agent.syncs and _converged(int_br, agent, args.ports)):
            time.sleep(0.05)
        result["restart_seconds"] = round(time.monotonic() - started, 2)
        cookies = {f.cookie for f in int_br.dump_flows()}
        result["stale_cookies_left"] = len(cookies - {agent.cookie})

        syncs = agent.syncs
        started = time.monotonic()
        fake.add_rule(group, "ingress", "tcp", 22, 22, remote_ip_prefix="0.0.0.0/0")
        env.notifier.security_groups_changed(RequestContext.admin(), [group])
        while agent.syncs == syncs or agent.pending():
            time.sleep(0.02)
        result["sg_change_seconds"] = round(time.monotonic() - started, 2)
        thread.stop()
    finally:
        env.cleanup()
        messaging.cleanup()
    out = ROOT / "benchmarks" / "network" / "results" / "ovs_converge.jsonl"
    with open(out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
