"""The reconcile loop shared by the agents, and the DHCP/L3 agents' bookkeeping."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from agents.network import agent as base
from agents.network import conf as agent_conf
from agents.network import dhcp_agent, l3_agent
from agents.network.exception import HostCommandError, NetworkAgentError
from common.context import RequestContext, current_request_id
from tests.unit.network_agent.fakes import FakeBridge, FakeServer


class Recorder(base.Agent):
    binary = "test-agent"

    def __init__(self, conf, server):
        super().__init__(conf, server)
        self.passes: list[set[str] | None] = []
        self.request_ids: list[str] = []
        self.fail_next = 0

    @property
    def resync_interval(self):
        return 3600

    @property
    def poll_interval(self):
        return 0.05

    def sync(self, ctx, ids):
        self.passes.append(ids)
        self.request_ids.append(current_request_id.get())
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("boom")
        return {}


@pytest.fixture
def conf():
    return agent_conf.make("stratus-ovs-agent", None, {"service": {"report_interval": 1}})


def test_marks_coalesce_and_the_first_pass_is_full(conf):
    agent = Recorder(conf, FakeServer())
    agent.mark(["a"])
    agent.run_once()
    assert agent.passes == [None]
    ctx = RequestContext()
    for ident in ("a", "b", "a"):
        agent.mark([ident], ctx)
    agent.run_once()
    assert agent.passes[-1] == {"a", "b"}
    assert agent.last_sync["full"] is False and agent.syncs == 2
    assert agent.request_ids[-1] != "-"  # each pass logs under a request ID of its own


def test_failure_turns_into_a_full_resync(conf):
    agent = Recorder(conf, FakeServer())
    agent.run_once()
    agent.fail_next = 1
    agent.mark(["a"])
    with pytest.raises(RuntimeError):
        agent.run_once()
    assert agent.pending()
    agent.run_once()
    assert agent.passes[-1] is None


def test_run_forever_heartbeats_retries_and_stops(conf, monkeypatch):
    monkeypatch.setattr(base, "MAX_BACKOFF", 0.1)
    server = FakeServer()
    agent = Recorder(conf, server)
    agent.fail_next = 2
    thread = threading.Thread(target=agent.run_forever)
    thread.start()
    deadline = time.monotonic() + 10
    while agent.syncs < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    agent.mark(["z"])
    while agent.syncs < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    agent.request_stop()
    thread.join(5)
    assert not thread.is_alive()
    assert agent.passes[:3] == [None, None, None]  # two failures, each retried in full
    assert {"z"} in agent.passes
    assert server.reports and server.reports[0]["binary"] == "test-agent"


def _dhcp(monkeypatch, server):
    FakeBridge.registry.clear()
    monkeypatch.setattr(dhcp_agent.ovs, "Bridge", FakeBridge.get)
    agent = dhcp_agent.DhcpAgent(agent_conf.make("stratus-dhcp-agent", None), server)
    done = {"converged": [], "torn": [], "swept": []}
    monkeypatch.setattr(agent, "converge", lambda net: done["converged"].append(net["id"]))
    monkeypatch.setattr(agent, "teardown", lambda net_id: done["torn"].append(net_id))
    monkeypatch.setattr(agent, "_state_dirs", lambda: set())

    def sweep(prefix, mark, keep, destroy):
        done["swept"].append(set(keep))
        return []

    monkeypatch.setattr(dhcp_agent.namespaces, "sweep", sweep)
    monkeypatch.setattr(dhcp_agent.plug, "sweep", lambda *a: [])
    return agent, done


def _net(net_id):
    return {"id": net_id, "subnets": [], "ports": [],
            "dhcp_port": {"id": str(uuid.uuid4()), "mac_address": "fa:16:3e:00:00:02"}}


def test_dhcp_agent_serves_and_tears_down(monkeypatch):
    server = FakeServer()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    server.dhcp = [_net(a), _net(b)]
    agent, done = _dhcp(monkeypatch, server)
    agent.run_once()
    assert done["converged"] == [a, b] and done["swept"] == [{a, b}]
    server.dhcp = [_net(a)]
    agent.mark([b, "junk"])
    agent.run_once()
    assert server.requests[-1] == ("dhcp", [b]) and done["torn"] == [b]
    assert agent.networks == {a}


def test_dhcp_agent_keeps_going_past_one_bad_network(monkeypatch):
    server = FakeServer()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    server.dhcp = [_net(a), _net(b)]
    agent, done = _dhcp(monkeypatch, server)

    def converge(net):
        if net["id"] == a:
            raise HostCommandError("dnsmasq failed")
        done["converged"].append(net["id"])

    monkeypatch.setattr(agent, "converge", converge)
    with pytest.raises(NetworkAgentError, match=a):
        agent.run_once()
    assert done["converged"] == [b]
    assert done["swept"] == [{a, b}]  # the failed network is not swept away


def test_l3_agent_tears_down_routers_that_are_down_or_gone(monkeypatch):
    FakeBridge.registry.clear()
    monkeypatch.setattr(l3_agent.ovs, "Bridge", FakeBridge.get)
    server = FakeServer()
    up, down = str(uuid.uuid4()), str(uuid.uuid4())
    server.routers = [{"id": up, "admin_state_up": True}, {"id": down, "admin_state_up": False}]
    agent = l3_agent.L3Agent(agent_conf.make("stratus-l3-agent", None), server)
    torn, kept = [], []

    class Plan:
        interfaces = ()
        gateway = None

    monkeypatch.setattr(agent, "converge", lambda r: kept.append(r["id"]) or Plan())
    monkeypatch.setattr(agent, "teardown", torn.append)
    monkeypatch.setattr(l3_agent.namespaces, "sweep",
                        lambda prefix, mark, keep, destroy: [destroy(down)] and [down])
    monkeypatch.setattr(l3_agent.plug, "sweep", lambda *a: [])
    agent.run_once()
    assert kept == [up] and torn == [down] and agent.routers == {up}
    agent.mark([up])
    server.routers = []
    agent.run_once()
    assert torn == [down, up] and agent.routers == set()
