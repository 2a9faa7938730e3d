"""Agent notifications (merged, sent after commit, never failing a request) and
Neutron-style list filters."""

from __future__ import annotations

import threading
import time

from common.context import RequestContext
from controller.api.network import common
from controller.network import notify


class Target:
    def __init__(self, fail_first: bool = False):
        self.calls: list[tuple[str, list[str]]] = []
        self.done = threading.Event()
        self.fail_first = fail_first

    def ports_changed(self, ctx, ids):
        if self.fail_first:
            self.fail_first = False
            raise ConnectionError("bus down")
        self.calls.append(("ports_changed", ids))
        self.done.set()

    def routers_changed(self, ctx, ids):
        self.calls.append(("routers_changed", ids))
        self.done.set()


def test_background_notifier_survives_a_bus_failure():
    target = Target(fail_first=True)
    notifier = notify.BackgroundNotifier(target)
    notifier.ports_changed(RequestContext.admin(), ["a"])
    deadline = time.monotonic() + 5
    while target.fail_first and time.monotonic() < deadline:
        time.sleep(0.01)
    notifier.ports_changed(RequestContext.admin(), [])  # nothing to say: not queued
    notifier.ports_changed(RequestContext.admin(), ["b"])
    assert target.done.wait(5)
    assert target.calls == [("ports_changed", ["b"])]


def test_background_notifier_merges_what_piles_up():
    target = Target()
    notifier = notify.BackgroundNotifier(target)
    ctx = RequestContext.admin()
    for ids in (["x"], ["y", "x"]):
        notifier._queue.put_nowait(("ports_changed", ctx, ids))
    notifier._put("routers_changed", ctx, ["r"])
    deadline = time.monotonic() + 5
    while len(target.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert target.calls == [("ports_changed", ["x", "y"]), ("routers_changed", ["r"])]


def test_changes_send_each_kind_once_sorted():
    target = Target()
    rt = type("Rt", (), {})()
    setattr(rt, notify.ATTRIBUTE, target)
    changes = notify.Changes().port("p2", "p1", "").router(None, "r1")
    changes.send(rt, RequestContext.admin())
    assert target.calls == [("ports_changed", ["p1", "p2"]), ("routers_changed", ["r1"])]


def test_filters():
    items = [{"id": "1", "name": "a", "shared": True, "mtu": 1450, "subnets": ["s1"],
              "gateway_ip": None,
              "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}]},
             {"id": "2", "name": "b", "shared": False, "mtu": 1500, "subnets": [],
              "gateway_ip": "10.0.0.1",
              "fixed_ips": [{"subnet_id": "s2", "ip_address": "10.0.1.5"}]}]

    def ids(query):
        return [i["id"] for i in common.apply_filters(items, query)]

    assert ids({"name": ["a", "b"]}) == ["1", "2"]
    assert ids({"shared": ["True"]}) == ["1"] and ids({"shared": ["false"]}) == ["2"]
    assert ids({"shared": ["maybe"]}) == []
    assert ids({"mtu": ["1500"]}) == ["2"] and ids({"subnets": ["s1"]}) == ["1"]
    assert ids({"gateway_ip": [""]}) == ["1"]
    assert ids({"fixed_ips": ["ip_address=10.0.1.5"]}) == ["2"]
    assert ids({"fixed_ips": ["subnet_id=s1", "ip_address=10.0.0.5"]}) == ["1"]
    assert ids({"fixed_ips": ["ip_address_substr=0.5"]}) == ["1"]
    assert ids({"fixed_ips": ["ip_address_substr=.5"]}) == ["1", "2"]
    assert ids({"not_an_attribute": ["x"]}) == ["1", "2"]
