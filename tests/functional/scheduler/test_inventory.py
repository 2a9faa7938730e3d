"""Compute node inventory upserts from agents' reports."""

from __future__ import annotations

import json

import pytest

from controller import exceptions
from controller.db.models.hosts import ComputeNode
from controller.scheduler import inventory

REPORT = {"vcpus": 4, "memory_mb": 8192, "disk_gb": 40, "disk_free_gb": 30,
          "hypervisor_type": "QEMU", "hypervisor_version": 7002000, "cpu_model": "qemu64",
          "host_ip": "192.0.2.10"}


def _row(rt, node_id: int) -> ComputeNode:
    with rt.db.session() as session:
        return session.get(ComputeNode, node_id)


def test_first_report_creates_the_node(rt):
    node_id = inventory.update_compute_node(rt, "inv-a", dict(REPORT, unknown_key=1))
    row = _row(rt, node_id)
    assert (row.host, row.hypervisor_hostname, row.vcpus, row.memory_mb, row.local_gb,
            row.free_disk_gb, row.hypervisor_version, row.host_ip) == (
        "inv-a", "inv-a", 4, 8192, 40, 30, 7002000, "192.0.2.10")
    assert json.loads(row.cpu_info) == {"model": "qemu64"}
    assert (row.cpu_allocation_ratio, row.ram_allocation_ratio, row.generation) == (4.0, 1.0, 0)
    assert len(row.uuid) == 36


def test_capacity_changes_bump_the_generation(rt):
    node_id = inventory.update_compute_node(rt, "inv-b", REPORT)
    assert inventory.update_compute_node(rt, "inv-b", dict(REPORT, disk_free_gb=10)) == node_id
    assert _row(rt, node_id).generation == 0  # free space is not capacity
    inventory.update_compute_node(rt, "inv-b", dict(REPORT, memory_mb=4096,
                                                    ram_allocation_ratio=1.5,
                                                    reserved_host_memory_mb=512))
    row = _row(rt, node_id)
    assert (row.memory_mb, row.ram_allocation_ratio, row.reserved_host_memory_mb,
            row.generation, row.free_disk_gb) == (4096, 1.5, 512, 1, 30)


@pytest.mark.parametrize("bad", [{"vcpus": -1}, {"memory_mb": "lots"}, {"disk_gb": 1.5},
                                 {"host_ip": "not-an-ip"}, {"cpu_allocation_ratio": 0},
                                 {"hypervisor_type": 7}])
def test_invalid_reports_are_refused_whole(rt, bad):
    with pytest.raises(exceptions.BadRequest, match="Inventory of inv-c"):
        inventory.update_compute_node(rt, "inv-c", dict(REPORT, **bad))
    with rt.db.session() as session:
        assert session.query(ComputeNode).filter_by(host="inv-c").count() == 0


def test_empty_host_is_refused(rt):
    with pytest.raises(exceptions.BadRequest):
        inventory.update_compute_node(rt, "", REPORT)
