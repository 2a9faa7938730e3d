"""Many builds at once, capacity limits, and a compute agent killed mid-build.

Checked on the host itself: real domains, instance directories, and the hypervisor's
claimed resources back at their baseline after every delete.
"""

from __future__ import annotations

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e import compute_support as host
from tests.e2e.compute_support import wait_for

COUNT = 10


@pytest.fixture(scope="module")
def roomy_quota(admin_cli):
    """Lift project demo's compute quota so capacity, not quota, is what limits."""
    project = admin_cli.json("project", "show", "demo")["id"]
    before = {row["Resource"]: row["Limit"] for row in admin_cli.json("quota", "show", project)}
    admin_cli.run("quota", "set", "--instances", "40", "--cores", "200", "--ram", "-1",
                  project)
    yield project
    admin_cli.run("quota", "set", "--instances", str(before["instances"]), "--cores",
                  str(before["cores"]), "--ram", str(before["ram"]), project, check=False)


def _hypervisor(admin_cli) -> dict:
    hypervisors = admin_cli.json("hypervisor", "list")
    assert len(hypervisors) >= 1
    return admin_cli.json("hypervisor", "show", str(hypervisors[0]["ID"]))


def _settled(cli, ids: list[str]) -> dict[str, dict] | None:
    """Every server's show output once none is building any more, else None."""
    shown = {server_id: cli.json("server", "show", server_id) for server_id in ids}
    if any(s["status"] == "BUILD" or s.get("OS-EXT-STS:task_state") for s in shown.values()):
        return None
    return shown


def _create_many(cli, flavor: str, count: int) -> list[str]:
    prefix = f"e2e-many-{uuid.uuid4().hex[:6]}"
    with ThreadPoolExecutor(count) as pool:
        created = list(pool.map(lambda index: cli.json(
            "server", "create", "--image", "stratus-tiny", "--flavor", flavor, "--nic",
            "none", f"{prefix}-{index}"), range(count)))
    return [server["id"] for server in created]


def _delete_all(cli, ids: list[str]) -> None:
    cli.run("server", "delete", "--wait", *ids)
    for server_id in ids:
        wait_for(f"server {server_id} to leave nothing behind",
                 lambda s=server_id: host.leftovers(s) == [], timeout=60)


def test_ten_servers_at_once_all_become_active(demo_cli, admin_cli, roomy_quota):
    baseline = _hypervisor(admin_cli)
    ids = _create_many(demo_cli, "m1.nano", COUNT)
    shown = wait_for("10 concurrent builds to settle", lambda: _settled(demo_cli, ids),
                     timeout=420, interval=3)
    statuses = {server_id: s["status"] for server_id, s in shown.items()}
    assert set(statuses.values()) == {"ACTIVE"}, statuses
    assert all(host.domain_state(server_id) == "running" for server_id in ids)
    assert _hypervisor(admin_cli)["running_vms"] >= baseline["running_vms"] + COUNT
    _delete_all(demo_cli, ids)
    after = _hypervisor(admin_cli)
    assert after["memory_mb_used"] == baseline["memory_mb_used"]
    assert after["vcpus_used"] == baseline["vcpus_used"]


def test_only_what_fits_is_built_and_the_rest_fail_with_no_valid_host(
        demo_cli, admin_cli, roomy_quota):
    fits = 3
    baseline = _hypervisor(admin_cli)
    free = baseline["free_ram_mb"]
    ram = free // fits
    assert (fits + 1) * ram > free
    flavor = f"e2e-fat-{uuid.uuid4().hex[:6]}"
    admin_cli.run("flavor", "create", "--public", "--ram", str(ram), "--disk", "1",
                  "--vcpus", "1", flavor)
    try:
        ids = _create_many(demo_cli, flavor, COUNT)
        shown = wait_for("the builds to settle", lambda: _settled(demo_cli, ids),
                         timeout=420, interval=3)
        active = [i for i, s in shown.items() if s["status"] == "ACTIVE"]
        failed = [s for s in shown.values() if s["status"] == "ERROR"]
        assert len(active) == fits, {i: s["status"] for i, s in shown.items()}
        assert len(failed) == COUNT - fits
        assert all("No valid host" in str(s.get("fault")) for s in failed)
        assert all(host.domain_state(server_id) == "running" for server_id in active)
        _delete_all(demo_cli, ids)
    finally:
        admin_cli.run("flavor", "delete", flavor, check=False)
    after = _hypervisor(admin_cli)
    assert after["memory_mb_used"] == baseline["memory_mb_used"]
    assert after["vcpus_used"] == baseline["vcpus_used"]


def test_agent_killed_during_a_build_leaves_it_active_or_error(demo_cli, admin_cli):
    pid = host.compute_agent_pid()
    if pid is None:
        pytest.skip("the compute agent is not supervised by tools/lib/supervise.sh here")
    baseline = _hypervisor(admin_cli)
    server = demo_cli.json("server", "create", "--image", "stratus-tiny", "--flavor",
                           "m1.nano", "--nic", "none", f"e2e-kill-{uuid.uuid4().hex[:6]}")
    wait_for("the build to reach the compute host", lambda: demo_cli.json(
        "server", "show", server["id"]).get("OS-EXT-STS:task_state") == "spawning"
        or demo_cli.json("server", "show", server["id"])["status"] != "BUILD",
        timeout=60, interval=0.2)
    os.kill(pid, signal.SIGKILL)
    wait_for("the supervisor to restart the agent",
             lambda: (host.compute_agent_pid() or pid) != pid, timeout=30)
    shown = wait_for("the build to end", lambda: _settled(demo_cli, [server["id"]]),
                     timeout=300, interval=2)[server["id"]]
    assert shown["status"] in ("ACTIVE", "ERROR"), shown["status"]
    if shown["status"] == "ACTIVE":
        assert host.domain_state(server["id"]) == "running"
    _delete_all(demo_cli, [server["id"]])
    wait_for("the claims to be released", lambda: _hypervisor(admin_cli)[
        "memory_mb_used"] == baseline["memory_mb_used"], timeout=60)
