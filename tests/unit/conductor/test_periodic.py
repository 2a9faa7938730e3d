"""The daemon's periodic loop and the conductor's reconciliation pass (recorder RPC)."""

from __future__ import annotations

import threading
import types

from controller import daemon
from controller.compute import states
from controller.conductor import build, reconcile
from tests.unit.conductor import seed


def test_periodic_loop_survives_failures_and_stops():
    stop = threading.Event()
    runs = []

    def task(rt):
        runs.append(rt)
        if len(runs) == 1:
            raise RuntimeError("first pass fails")
        if len(runs) == 3:
            stop.set()

    rt = types.SimpleNamespace(conf=None)
    worker = threading.Thread(target=daemon.periodic_loop,
                              args=(rt, daemon.Periodic(task, lambda conf: 0.01), stop))
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and len(runs) == 3


def test_max_attempts_falls_back_without_the_scheduler_options():
    assert build.max_attempts(types.SimpleNamespace()) == 3


def test_reconcile_pass_reports_nothing_on_a_quiet_cloud(rt):
    seed.compute_host(rt, "quiet-host")
    seed.instance(rt, seed.user_ctx(), seed.flavor(rt), seed.image(rt),
                  vm_state=states.ACTIVE, task_state=None, host="quiet-host")
    report = reconcile.run_once(rt)
    assert report == reconcile.Report()
    assert rt.compute_api.calls == [] and rt.scheduler_api.calls == []
