"""Scheduler filters and capacity arithmetic, on pool states (no database)."""

from __future__ import annotations

import dataclasses

import pytest

from controller.volume import errors, scheduler


def _pool(**values) -> scheduler.PoolState:
    base = dict(id=1, name="h@b#b", backend="h@b", zone="nova", total_gb=100.0,
                reported_free_gb=100.0, reserved_percentage=0, ratio=1.0, thin=False,
                allocated_gb=0, generation=0,
                capabilities={"volume_backend_name": "b", "thin_provisioning_support": False,
                              "multiattach": True, "storage_protocol": "iSCSI"})
    base.update(values)
    return scheduler.PoolState(**base)


def test_capacity_thick_thin_and_reserve():
    assert _pool(allocated_gb=40).free_gb == 60
    assert _pool(reserved_percentage=10, allocated_gb=40).free_gb == pytest.approx(50)
    thin = _pool(thin=True, ratio=4.0, allocated_gb=300)
    assert thin.free_gb == 100
    flt = scheduler.CapacityFilter()
    assert flt.passes(thin, scheduler.Request(100, "nova"))
    assert not flt.passes(thin, scheduler.Request(101, "nova"))
    full = _pool(thin=True, ratio=20.0, reported_free_gb=0.0)
    assert not flt.passes(full, scheduler.Request(1, "nova"))  # physically full


@pytest.mark.parametrize(("value", "wanted", "result"), [
    ("True", "<is> True", True), ("False", "<is> True", False), ("true", "<is> True", True),
    ("iSCSI", "<in> SCSI", True), ("b", "<or> a <or> b", True), ("c", "<or> a <or> b", False),
    ("10", ">= 5", True), ("4", ">= 5", False), ("abc", ">= 5", False), ("x", "x", True),
    ("x", "y", False),
])
def test_extra_spec_operators(value, wanted, result):
    assert scheduler.matches(value, wanted) is result


def test_capabilities_filter_ignores_other_scopes():
    flt = scheduler.CapabilitiesFilter()
    pool = _pool()
    assert flt.passes(pool, scheduler.Request(1, "nova", {"volume_backend_name": "b"}))
    assert not flt.passes(pool, scheduler.Request(1, "nova", {"volume_backend_name": "c"}))
    assert flt.passes(pool, scheduler.Request(1, "nova", {"RESKEY:anything": "x",
                                                          "capabilities:multiattach":
                                                          "<is> True"}))
    assert not flt.passes(pool, scheduler.Request(1, "nova", {"unknown_cap": "1"}))


class _Conf:
    class volume:  # noqa: N801 - mimics oslo.config groups
        scheduler_default_filters = ["AvailabilityZoneFilter", "CapacityFilter",
                                     "CapabilitiesFilter"]


@dataclasses.dataclass
class _Rt:
    conf: type = _Conf


def test_select_weighs_by_free_space_and_names_the_emptying_filter():
    small, big = _pool(id=1, name="a@b#b", allocated_gb=90), _pool(id=2, name="z@b#b")
    chosen = scheduler.select(_Rt(), [small, big], scheduler.Request(5, "nova"))
    assert [p.name for p in chosen] == ["z@b#b", "a@b#b"]
    with pytest.raises(errors.NoValidBackend, match="CapacityFilter removed every backend "
                                                    "pool.*largest free space is 100 GiB"):
        scheduler.select(_Rt(), [small, big], scheduler.Request(500, "nova"))
    with pytest.raises(errors.NoValidBackend, match="AvailabilityZoneFilter"):
        scheduler.select(_Rt(), [big], scheduler.Request(1, "mars"))
    with pytest.raises(errors.NoValidBackend, match="no volume agent"):
        scheduler.select(_Rt(), [], scheduler.Request(1, "nova"))
    with pytest.raises(errors.NoValidBackend, match="Pool x@y#y of the source"):
        scheduler.select(_Rt(), [big], scheduler.Request(1, "nova", pool="x@y#y"))
