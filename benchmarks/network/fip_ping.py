"""Floating IP to first ping: how long after `openstack server add floating ip` the host
gets the first answer from the guest through the new address.

    flock /tmp/stratus-vm.lock /opt/stratus/venv/bin/python \\
        benchmarks/network/fip_ping.py [--rounds 10]

Drives the unmodified CLI against the cloud of OS_CLIENT_CONFIG_FILE (default: the
all-in-one's clouds.yaml; an isolated one: tests/e2e/private_cloud.py): makes a network
behind a router to the external network (STRATUS_E2E_PUBLIC_NETWORK, "public"), a
group letting ICMP in, one guest (stratus-tiny, m1.nano) and a floating IP, then per
round associates the address, pings it every 50 ms until it answers, disassociates it
and waits until it stops answering. Two figures per round: from the start of the CLI
command (what a user waits) and from its return (the agents' share: notification, L3
agent DNAT/SNAT, gratuitous ARP). Everything is deleted at the end; the figures are
appended to benchmarks/network/results/fip_ping.jsonl.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
import uuid

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "fip_ping.jsonl"
PUBLIC = os.environ.get("STRATUS_E2E_PUBLIC_NETWORK", "public")


def cli(*args: str, cloud: str = "stratus-demo", check: bool = True) -> str:
    proc = subprocess.run(["openstack", "--os-cloud", cloud, *args], capture_output=True,
                          text=True, timeout=180, check=False)
    if check and proc.returncode:
        raise SystemExit(f"openstack {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def cli_json(*args: str, **kwargs) -> dict:
    return json.loads(cli(*args, "-f", "json", **kwargs))


def answers(address: str) -> bool:
    """The guest itself answered: its reply crossed the router (TTL below 64), so it
    is not the router namespace answering for an address it already holds."""
    proc = subprocess.run(["ping", "-c", "1", "-W", "0.05", address], capture_output=True,
                          text=True, check=False)
    ttl = re.search(r"ttl=(\d+)", proc.stdout)
    return proc.returncode == 0 and ttl is not None and int(ttl.group(1)) < 64


def wait(what: str, predicate, timeout: float, interval: float = 0.05) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    sfx = uuid.uuid4().hex[:6]
    made: dict[str, str] = {}
    try:
        made["net"] = cli_json("network", "create", f"bench-net-{sfx}")["id"]
        cli("subnet", "create", "--network", made["net"], "--subnet-range",
            "10.199.77.0/24", f"bench-sub-{sfx}")
        made["router"] = cli_json("router", "create", "--external-gateway", PUBLIC,
                                  f"bench-router-{sfx}")["id"]
        cli("router", "add", "subnet", made["router"], f"bench-sub-{sfx}")
        made["group"] = cli_json("security", "group", "create", f"bench-sg-{sfx}")["id"]
        cli("security", "group", "rule", "create", "--ingress", "--protocol", "icmp",
            made["group"])
        made["server"] = cli_json("server", "create", "--image", "stratus-tiny", "--flavor",
                                  "m1.nano", "--network", made["net"], "--security-group",
                                  made["group"], "--wait", f"bench-vm-{sfx}")["id"]
        wait("the guest to boot", lambda: "stratus-guest ready:" in cli(
            "console", "log", "show", made["server"]), 240, interval=2)
        fip = cli_json("floating", "ip", "create", PUBLIC)
        made["fip"], address = fip["id"], fip["floating_ip_address"]
        total, after = [], []
        for _ in range(args.rounds):
            started = time.monotonic()
            cli("server", "add", "floating", "ip", made["server"], address)
            returned = time.monotonic()
            answered = wait(f"{address} to answer", lambda: answers(address), 120)
            total.append(answered - started)
            after.append(answered - returned)
            cli("server", "remove", "floating", "ip", made["server"], address)
            wait(f"{address} to go quiet", lambda: subprocess.run(
                ["ping", "-c", "1", "-W", "0.2", address], capture_output=True,
                check=False).returncode != 0, 60, interval=0.2)
            time.sleep(1)
        result = {"when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                  "rounds": args.rounds,
                  "from_command_start_s": {"p50": round(statistics.median(total), 2),
                                           "p95": round(_percentile(total, 0.95), 2),
                                           "max": round(max(total), 2)},
                  "after_command_return_s": {"p50": round(statistics.median(after), 2),
                                             "p95": round(_percentile(after, 0.95), 2),
                                             "max": round(max(after), 2)}}
        print(json.dumps(result))
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
    finally:
        if "fip" in made:
            cli("floating", "ip", "delete", made["fip"], check=False)
        if "server" in made:
            cli("server", "delete", "--wait", made["server"], check=False)
        if "router" in made:
            cli("router", "remove", "subnet", made["router"], f"bench-sub-{sfx}",
                check=False)
            cli("router", "delete", made["router"], check=False)
        for key, kind in (("net", "network"), ("group", "security group")):
            if key in made:
                cli(*kind.split(), "delete", made[key], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
