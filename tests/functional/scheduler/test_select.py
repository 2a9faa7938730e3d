"""select_destinations on real SQL: filters, in-request accounting, races, resizes."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from common.context import RequestContext
from controller.db import base as db_base
from controller.db.models.hosts import Allocation
from controller.runtime import Runtime
from controller.scheduler import claims
from controller.scheduler.manager import SchedulerManager
from tests.functional.scheduler.conftest import add_group, add_host, add_instance, flavor_spec


def _uuids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def _select(rt, spec, uuids, **kwargs):
    return SchedulerManager(rt).select_destinations(RequestContext(), spec, uuids, **kwargs)


def _hosts(result) -> list[str]:
    return [selection["host"] for selection in result["selections"]]


def test_selection_claims_and_names_the_node(rt):
    node = add_host(rt, "sel-a")
    [instance] = _uuids(1)
    result = _select(rt, flavor_spec(memory_mb=1024, vcpus=2, root_gb=5), [instance])
    assert result == {"selections": [{"instance_uuid": instance, "host": "sel-a",
                                      "node": "sel-a", "compute_node_id": node}],
                      "failed": {}}
    assert claims.allocations(rt, instance) == [{"compute_node_id": node, "host": "sel-a",
                                                 "vcpus": 2, "memory_mb": 1024,
                                                 "disk_gb": 5}]


def test_no_valid_host_names_the_filter_and_the_request(rt):
    add_host(rt, "small", memory_mb=2048)
    [instance] = _uuids(1)
    result = _select(rt, flavor_spec(memory_mb=4096), [instance])
    assert result["selections"] == []
    assert result["failed"][instance] == (
        "No valid host was found. There are not enough hosts available: "
        "RamFilter left 0 of 1 hosts for 4096 MB RAM")
    assert claims.allocations(rt, instance) == []


def test_no_hosts_at_all(rt):
    [instance] = _uuids(1)
    result = _select(rt, flavor_spec(), [instance])
    assert "There are no compute hosts" in result["failed"][instance]


def test_down_disabled_and_other_zone_hosts_are_skipped(rt):
    add_host(rt, "down", up=False)
    add_host(rt, "off", disabled=True)
    add_host(rt, "far", zone="az2")
    add_host(rt, "near", zone="az1")
    result = _select(rt, flavor_spec(availability_zone="az1"), _uuids(1))
    assert _hosts(result) == ["near"]
    [message] = _select(rt, flavor_spec(availability_zone="az3"), _uuids(1))["failed"].values()
    assert message.endswith("AvailabilityZoneFilter left 0 of 2 hosts in availability zone az3")


def test_forced_host_may_be_disabled_but_not_down(rt):
    add_host(rt, "spare", disabled=True, memory_mb=16384)
    add_host(rt, "dead", up=False)
    add_host(rt, "busy")
    assert _hosts(_select(rt, flavor_spec(force_hosts=["spare"]), _uuids(1))) == ["spare"]
    [message] = _select(rt, flavor_spec(force_hosts=["dead"]), _uuids(1))["failed"].values()
    assert "ComputeFilter left 0 of 1 hosts" in message
    [message] = _select(rt, flavor_spec(force_hosts=["nowhere"]), _uuids(1))["failed"].values()
    assert "nowhere are not compute hosts" in message


def test_exclude_hosts_for_reschedules(rt):
    add_host(rt, "try-a", memory_mb=16384)
    add_host(rt, "try-b")
    [instance] = _uuids(1)
    first = _select(rt, flavor_spec(), [instance])
    assert _hosts(first) == ["try-a"]  # most free RAM
    # The build failed on try-a: the reschedule drops that claim and avoids the host.
    second = _select(rt, flavor_spec(), [instance], exclude_hosts=["try-a"])
    assert _hosts(second) == ["try-b"]
    assert [a["host"] for a in claims.allocations(rt, instance)] == ["try-b"]
    third = _select(rt, flavor_spec(), [instance], exclude_hosts=["try-a", "try-b"])
    assert "already tried: try-a, try-b" in third["failed"][instance]


def test_multi_instance_request_counts_its_own_claims(rt):
    add_host(rt, "fill-a", memory_mb=1024)
    add_host(rt, "fill-b", memory_mb=1024)
    uuids = _uuids(5)
    result = _select(rt, flavor_spec(memory_mb=512), uuids)
    assert sorted(_hosts(result)) == ["fill-a", "fill-a", "fill-b", "fill-b"]
    assert list(result["failed"]) == [uuids[4]]
    assert "RamFilter left 0 of 2 hosts for 512 MB RAM" in result["failed"][uuids[4]]


def test_anti_affinity_within_a_request_and_with_existing_members(rt):
    for name in ("anti-a", "anti-b", "anti-c"):
        add_host(rt, name)
    group = add_group(rt, "anti-affinity")
    add_instance(rt, host="anti-c", group=group)
    uuids = _uuids(3)
    result = _select(rt, flavor_spec(group_uuid=group), uuids)
    assert sorted(_hosts(result)) == ["anti-a", "anti-b"]
    assert "ServerGroupAntiAffinityFilter left 0 of 3 hosts" in result["failed"][uuids[2]]


def test_anti_affinity_max_server_per_host(rt):
    add_host(rt, "max-a")
    group = add_group(rt, "anti-affinity", {"max_server_per_host": 2})
    result = _select(rt, flavor_spec(group_uuid=group), _uuids(3))
    assert _hosts(result) == ["max-a", "max-a"] and len(result["failed"]) == 1


def test_affinity_keeps_members_together(rt):
    add_host(rt, "aff-a", memory_mb=16384)
    add_host(rt, "aff-b", memory_mb=4096)
    group = add_group(rt, "affinity")
    add_instance(rt, host="aff-b", group=group)
    result = _select(rt, flavor_spec(group_uuid=group), _uuids(3))
    assert _hosts(result) == ["aff-b"] * 3  # despite aff-a's free RAM
    empty = add_group(rt, "affinity")
    result = _select(rt, flavor_spec(group_uuid=empty), _uuids(3))
    assert _hosts(result) == ["aff-a"] * 3


def test_ram_weigher_spreads_or_stacks(rt):
    add_host(rt, "w-a", memory_mb=4096)
    add_host(rt, "w-b", memory_mb=4096)
    spread = _select(rt, flavor_spec(memory_mb=1024), _uuids(2))
    assert sorted(_hosts(spread)) == ["w-a", "w-b"]
    rt.conf.set_override("ram_weight_multiplier", -1.0, group="scheduler")
    stacked = _select(rt, flavor_spec(memory_mb=512), _uuids(2))
    assert len(set(_hosts(stacked))) == 1


def test_resize_moves_the_old_claim_to_the_migration(rt):
    node = add_host(rt, "rs-a", memory_mb=4096)
    instance = add_instance(rt)
    migration = str(uuid.uuid4())
    _select(rt, flavor_spec(memory_mb=1024), [instance])
    # Same-host resize: both the old (migration) and new (instance) flavors count.
    result = _select(rt, flavor_spec(memory_mb=2048, force_hosts=["rs-a"]), [instance],
                     move_from=migration)
    assert _hosts(result) == ["rs-a"]
    assert claims.allocations(rt, migration)[0]["memory_mb"] == 1024
    assert claims.allocations(rt, instance)[0]["memory_mb"] == 2048
    assert claims.usage(rt)[node].memory_mb == 3072
    # A second resize of the same migration (reschedule) does not stack claims.
    again = _select(rt, flavor_spec(memory_mb=2048), [instance], move_from=migration)
    assert _hosts(again) == ["rs-a"] and claims.usage(rt)[node].memory_mb == 3072
    # Too big: the resize fails and the instance gets its old claim back.
    failed = _select(rt, flavor_spec(memory_mb=8192), [instance], move_from=migration)
    assert "RamFilter" in failed["failed"][instance]
    assert claims.allocations(rt, migration) == []
    assert claims.allocations(rt, instance)[0]["memory_mb"] == 1024


def test_two_schedulers_twenty_requests_room_for_five(rt):
    """Two SchedulerManagers on separate engines, 20 concurrent single-instance requests,
    room for exactly 5: exactly 5 placements, never over capacity."""
    room, threads = 5, 20
    node = add_host(rt, "race", vcpus=64, memory_mb=room * 512, disk_gb=1000)
    other = Runtime(conf=rt.conf, db=db_base.Database(rt.db.url))
    managers = [SchedulerManager(rt), SchedulerManager(other)]
    results: list[dict] = []
    start = threading.Barrier(threads)

    def request(index: int) -> None:
        start.wait()
        results.append(managers[index % 2].select_destinations(
            RequestContext(), flavor_spec(memory_mb=512), _uuids(1)))

    workers = [threading.Thread(target=request, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    other.db.dispose()
    placed = [s for r in results for s in r["selections"]]
    failed = [m for r in results for m in r["failed"].values()]
    assert len(placed) == room and len(failed) == threads - room
    assert all("No valid host was found." in message for message in failed)
    with rt.db.session() as session:
        count, memory = session.execute(sa.select(
            sa.func.count(Allocation.id), sa.func.sum(Allocation.memory_mb)).where(
            Allocation.compute_node_id == node)).one()
    assert (count, memory) == (room, room * 512)
