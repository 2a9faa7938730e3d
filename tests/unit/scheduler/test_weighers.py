"""Weighers on their own: RAM spread/stack and soft (anti-)affinity."""

from __future__ import annotations

from controller import conf as controller_conf
from controller.scheduler import weighers
from tests.unit.scheduler.test_filters import group, host, spec


def _order(hosts, request, **overrides):
    conf = controller_conf.make(None, overrides={"scheduler": overrides})
    return [h.host for _, h in weighers.order(conf, hosts, request)]


def test_ram_weigher_spreads_by_default_and_stacks_when_negative():
    hosts = [host("full", used_memory_mb=3000), host("empty"), host("half", used_memory_mb=2000)]
    assert _order(hosts, spec()) == ["empty", "half", "full"]
    assert _order(hosts, spec(), ram_weight_multiplier=-1.0) == ["full", "half", "empty"]


def test_soft_affinity_weigher_prefers_members_hosts():
    hosts = [host("a"), host("b", used_memory_mb=100)]
    request = spec(group=group("soft-affinity", {"b": 2}))
    assert _order(hosts, request, ram_weight_multiplier=0.0) == ["b", "a"]
    assert _order(hosts, request, soft_affinity_weight_multiplier=0.0) == ["a", "b"]


def test_soft_anti_affinity_weigher_avoids_members_hosts():
    hosts = [host("a"), host("b", used_memory_mb=100)]
    request = spec(group=group("soft-anti-affinity", {"a": 1}))
    assert _order(hosts, request, ram_weight_multiplier=0.5) == ["b", "a"]


def test_ties_keep_order_and_empty_is_empty():
    assert _order([host("x"), host("y")], spec()) == ["x", "y"]
    assert _order([], spec()) == []
