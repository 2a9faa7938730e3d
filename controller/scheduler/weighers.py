"""Weighers: rank the hosts that passed every filter; the highest total wins.

Each weigher's raw values are scaled to 0..1 over the candidate hosts, then multiplied
by its multiplier, so no weigher dominates merely by its units (MB against counts).
"""

from __future__ import annotations

from oslo_config import cfg

from controller.scheduler.host_state import HostState
from controller.scheduler.spec import RequestSpec


class BaseWeigher:
    """Gives each host a raw value; more is better before the multiplier is applied."""

    def multiplier(self, conf: cfg.ConfigOpts) -> float:
        raise NotImplementedError

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        raise NotImplementedError


class RAMWeigher(BaseWeigher):
    """Free RAM: spreads by default, stacks with a negative ram_weight_multiplier."""

    def multiplier(self, conf: cfg.ConfigOpts) -> float:
        return conf.scheduler.ram_weight_multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        return host.free_memory_mb


class SoftAffinityWeigher(BaseWeigher):
    """Prefers hosts that already run members of a soft-affinity group."""

    def multiplier(self, conf: cfg.ConfigOpts) -> float:
        return conf.scheduler.soft_affinity_weight_multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        if spec.group is None or spec.group.policy != "soft-affinity":
            return 0.0
        return float(spec.group.hosts[host.host])


class SoftAntiAffinityWeigher(BaseWeigher):
    """Prefers hosts that run the fewest members of a soft-anti-affinity group."""

    def multiplier(self, conf: cfg.ConfigOpts) -> float:
        return conf.scheduler.soft_anti_affinity_weight_multiplier

    def weigh(self, host: HostState, spec: RequestSpec) -> float:
        if spec.group is None or spec.group.policy != "soft-anti-affinity":
            return 0.0
        return -float(spec.group.hosts[host.host])


ALL: list[type[BaseWeigher]] = [RAMWeigher, SoftAffinityWeigher, SoftAntiAffinityWeigher]


def _normalize(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(value - low) / (high - low) for value in values]


def order(conf: cfg.ConfigOpts, hosts: list[HostState], spec: RequestSpec,
          weighers: list[BaseWeigher] | None = None) -> list[tuple[float, HostState]]:
    """hosts with their total weight, best first (ties keep the hosts' given order)."""
    if not hosts:
        return []
    totals = [0.0] * len(hosts)
    for weigher in weighers if weighers is not None else [cls() for cls in ALL]:
        multiplier = weigher.multiplier(conf)
        if not multiplier:
            continue
        scaled = _normalize([weigher.weigh(host, spec) for host in hosts])
        totals = [total + multiplier * value for total, value in zip(totals, scaled, strict=True)]
    ranked = sorted(range(len(hosts)), key=lambda index: -totals[index])
    return [(totals[index], hosts[index]) for index in ranked]
