"""Fixtures for the network agents' functional tests: real OVS (userspace datapath),
namespaces, dnsmasq and iptables, with agents talking to a fake network service over a
real RabbitMQ exchange of their own.

Everything a test run creates carries a random suffix (bridges ``bi-/bx-/bt-<suffix>``,
namespaces of fake VMs ``vm<n>-<suffix>``) and the agents mark their namespaces with
their own integration bridge, so runs of other developers and the running cloud are
never touched. The environment removes everything it made, and checks it did.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from agents.network import ovs_setup
from common import messaging
from tests.functional.network_agent import fake_server
from tests.functional.network_agent.netenv import NetEnv

NEEDED = ("ovs-vsctl", "ovs-ofctl", "ovsdb-server", "ovs-vswitchd", "ip", "dnsmasq",
          "iptables-restore", "iptables-save", "ethtool", "busybox")


@pytest.fixture(scope="session")
def ovs_host():
    """Root, the tools, and a running Open vSwitch (started here when it is not)."""
    if os.geteuid() != 0:
        pytest.skip("network agent tests need root (namespaces, OVS, iptables)")
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)} (apt-get install openvswitch-switch "
                    "dnsmasq-base iptables ethtool busybox-static iproute2)")
    ovs_setup.ensure_running()


@pytest.fixture(scope="module")
def bare_netenv(ovs_host, transport_url, tmp_path_factory):
    """A private network environment: bridge names, its own exchange and topics,
    configs for every agent; torn down (and checked clean) at the end. Whoever uses it
    serves the network service's RPC."""
    messaging.cleanup()  # transports of earlier tests may carry another exchange
    suffix = uuid.uuid4().hex[:6]
    env = NetEnv(suffix, str(tmp_path_factory.mktemp(f"net-{suffix}")), transport_url)
    try:
        yield env
    finally:
        env.cleanup()
        messaging.cleanup()


@pytest.fixture(scope="module")
def netenv(bare_netenv):
    """bare_netenv with a fake network service answering the agents."""
    bare_netenv.fake = fake_server.FakeNetworkServer(bare_netenv.host)
    bare_netenv.rpc_server = fake_server.serve(bare_netenv.conf("stratus-ovs-agent"),
                                               bare_netenv.fake)
    return bare_netenv



@pytest.fixture(scope="module")
def service(bare_netenv, tmp_path_factory):
    """The real network service (API, agent RPC, metadata API over HTTP) on SQLite."""
    from tests.functional.network_agent.service import run_service

    yield from run_service(bare_netenv, tmp_path_factory.mktemp("service"))
