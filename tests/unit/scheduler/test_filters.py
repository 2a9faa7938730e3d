"""Each scheduler filter on its own, on hand-made host states."""

from __future__ import annotations

import collections

import pytest

from controller.scheduler import filters
from controller.scheduler.host_state import HostState, Resources
from controller.scheduler.spec import GroupInfo, RequestSpec


def host(name: str = "h1", **overrides) -> HostState:
    values = dict(compute_node_id=1, host=name, node=name, generation=0, total_vcpus=4,
                  total_memory_mb=4096, total_disk_gb=100, cpu_allocation_ratio=1.0,
                  ram_allocation_ratio=1.0, disk_allocation_ratio=1.0, reserved_memory_mb=0,
                  reserved_disk_gb=0, zone="nova", service_up=True, service_disabled=False)
    values.update(overrides)
    return HostState(**values)


def spec(vcpus: int = 1, memory_mb: int = 512, disk_gb: int = 1, **overrides) -> RequestSpec:
    return RequestSpec(project_id="p", resources=Resources(vcpus, memory_mb, disk_gb),
                       **overrides)


def group(policy: str, hosts: dict[str, int] | None = None, max_per_host: int = 1):
    return GroupInfo(uuid="g1", policy=policy, max_server_per_host=max_per_host,
                     hosts=collections.Counter(hosts or {}))


def test_compute_filter():
    check = filters.ComputeFilter().host_passes
    assert check(host(), spec())
    assert not check(host(service_up=False), spec())
    assert not check(host(service_disabled=True), spec())
    assert check(host(service_disabled=True), spec(force_hosts=frozenset({"h1"})))
    assert not check(host(service_up=False), spec(force_hosts=frozenset({"h1"})))


def test_availability_zone_filter():
    check = filters.AvailabilityZoneFilter().host_passes
    assert check(host(zone="az1"), spec())
    assert check(host(zone="az1"), spec(availability_zone="az1"))
    assert not check(host(zone="az2"), spec(availability_zone="az1"))
    assert not check(host(zone=None), spec(availability_zone="az1"))


def test_ram_filter_applies_ratio_and_reservation():
    check = filters.RamFilter().host_passes
    assert check(host(used_memory_mb=3584), spec(memory_mb=512))
    assert not check(host(used_memory_mb=3585), spec(memory_mb=512))
    assert not check(host(reserved_memory_mb=512, used_memory_mb=3072), spec(memory_mb=1024))
    assert check(host(ram_allocation_ratio=1.5, used_memory_mb=4096), spec(memory_mb=2048))
    assert filters.RamFilter().describe(spec(memory_mb=4096)) == "for 4096 MB RAM"


def test_core_filter_applies_ratio():
    check = filters.CoreFilter().host_passes
    assert not check(host(used_vcpus=4), spec(vcpus=1))
    assert check(host(used_vcpus=4, cpu_allocation_ratio=4.0), spec(vcpus=12))
    assert not check(host(used_vcpus=4, cpu_allocation_ratio=4.0), spec(vcpus=13))


def test_disk_filter_applies_ratio_and_reservation():
    check = filters.DiskFilter().host_passes
    assert check(host(used_disk_gb=90), spec(disk_gb=10))
    assert not check(host(used_disk_gb=90, reserved_disk_gb=1), spec(disk_gb=10))
    assert check(host(used_disk_gb=100, disk_allocation_ratio=2.0), spec(disk_gb=100))


def test_affinity_filter():
    check = filters.ServerGroupAffinityFilter().host_passes
    assert check(host("h1"), spec())
    assert check(host("h1"), spec(group=group("affinity")))
    assert check(host("h1"), spec(group=group("affinity", {"h1": 1})))
    assert not check(host("h2"), spec(group=group("affinity", {"h1": 1})))
    assert check(host("h2"), spec(group=group("anti-affinity", {"h1": 1})))


def test_anti_affinity_filter():
    check = filters.ServerGroupAntiAffinityFilter().host_passes
    assert check(host("h1"), spec(group=group("anti-affinity", {"h2": 1})))
    assert not check(host("h1"), spec(group=group("anti-affinity", {"h1": 1})))
    assert check(host("h1"), spec(group=group("anti-affinity", {"h1": 1}, max_per_host=2)))
    assert check(host("h1"), spec(group=group("affinity", {"h1": 5})))


def test_unknown_filter_names_are_refused():
    assert [f.name for f in filters.load(["RamFilter", "CoreFilter"])] == [
        "RamFilter", "CoreFilter"]
    with pytest.raises(ValueError, match="RamFliter"):
        filters.load(["RamFliter"])


def test_flavor_resources():
    flavor = {"vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 5, "swap": 1536}
    assert Resources.from_flavor(flavor) == Resources(2, 2048, 27)
    assert Resources.from_flavor(flavor, boot_from_volume=True) == Resources(2, 2048, 7)
