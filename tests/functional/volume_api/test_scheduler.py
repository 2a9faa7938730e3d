"""Scheduling under concurrency: creates racing for a backend with room for N volumes
place exactly N of them (claims are generation-guarded UPDATEs), on SQLite and
PostgreSQL; and the reports that keep pools current."""

from __future__ import annotations

import threading
import uuid

from common.context import RequestContext
from controller.volume import quotas, types, volumes
from controller.volume.rpc import VolumeRpcManager
from tests.functional.volume_api import fakes

ROOM_FOR = 5
RACERS = 12


def test_concurrent_creates_never_overcommit(cloud, agent):
    rt = cloud.rt
    backend = f"race{uuid.uuid4().hex[:6]}"
    fakes.add_backend(rt, "racehost", backend, total_capacity_gb=2.0 * ROOM_FOR,
                      free_capacity_gb=2.0 * ROOM_FOR)
    admin = RequestContext(user_id="admin", project_id="admin-project", roles=["admin"])
    vtype = types.create(rt, admin, f"race-{backend}",
                         extra_specs={"volume_backend_name": backend})
    project = f"race-{uuid.uuid4().hex[:8]}"
    quotas.update(rt, admin, project, {"volumes": -1, "gigabytes": -1})
    ctx = RequestContext(user_id="racer", project_id=project, roles=["member"])
    start = threading.Barrier(RACERS)
    results: list[str] = []
    failures: list[BaseException] = []

    def race() -> None:
        try:
            start.wait()
            row = volumes.create(rt, ctx, {"size": 2, "volume_type": vtype.name})
            results.append(row.status)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert sorted(results) == ["available"] * ROOM_FOR + ["error"] * (RACERS - ROOM_FOR)
    placed = [c for c in agent.calls if c.method == "create_volume"
              and c.backend == f"racehost@{backend}"]
    assert len(placed) == ROOM_FOR


def test_reports_keep_pools_current(cloud, agent):
    rt = cloud.rt
    manager = VolumeRpcManager(rt)
    backend = f"grow{uuid.uuid4().hex[:6]}"
    fakes.add_backend(rt, "growhost", backend, total_capacity_gb=1.0, free_capacity_gb=1.0)
    admin = RequestContext(user_id="admin", project_id="admin-project", roles=["admin"])
    vtype = types.create(rt, admin, f"grow-{backend}",
                         extra_specs={"volume_backend_name": backend})
    ctx = RequestContext(user_id="u", project_id=f"p-{backend}", roles=["member"])
    assert volumes.create(rt, ctx, {"size": 2, "volume_type": vtype.name}).status == "error"
    # Thin provisioning with over-subscription: 1 GiB physical holds 2 GiB of volumes.
    manager.report_capacity(None, f"growhost@{backend}", {
        **fakes.STATS, "volume_backend_name": backend, "total_capacity_gb": 1.0,
        "free_capacity_gb": 1.0, "thin_provisioning_support": True,
        "max_over_subscription_ratio": "4.0"})
    assert volumes.create(rt, ctx, {"size": 2, "volume_type": vtype.name}).status == \
        "available"
    # A pool whose agent is disabled or gone takes nothing.
    manager.report_capacity(None, f"growhost@{backend}", {
        **fakes.STATS, "volume_backend_name": backend, "max_over_subscription_ratio": "auto"})
    on_backend = manager.volumes_on_backend(None, f"growhost@{backend}")
    assert [(e["kind"], e["status"], e["deleted"]) for e in on_backend] == \
        [("volume", "available", False)]
