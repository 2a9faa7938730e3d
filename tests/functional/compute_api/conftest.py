"""One real API server for the compute CLI tests (see tests/functional/image)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.functional.image.stratus_cloud import StratusCloud


@pytest.fixture(scope="module")
def stratus_cloud(tmp_path_factory) -> Iterator[StratusCloud]:
    cloud = StratusCloud(tmp_path_factory.mktemp("stratus-compute"))
    exchange = cloud.messaging["messaging"]["control_exchange"]
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()
        _delete_exchange(exchange)


def _delete_exchange(name: str) -> None:
    """Remove the exchange the API's casts declared (nothing consumes from it)."""
    import kombu

    url = os.environ.get("STRATUS_TEST_TRANSPORT_URL", "amqp://guest:guest@127.0.0.1:5672/")
    try:
        with kombu.Connection(url.replace("rabbit://", "amqp://"), connect_timeout=5) as conn:
            conn.default_channel.exchange_delete(name)
    except Exception:  # noqa: BLE001 - best-effort cleanup of test leftovers
        pass


@pytest.fixture(scope="module")
def env(cloud):
    """Tokens for admin, demo and a third project, recording RPC fakes, an active image
    and two flavors, on the module's database (SQLite and PostgreSQL)."""
    from tests.functional.compute_api import fakes

    rt = cloud.rt
    other_project = fakes.add_member(rt, "other", "other", "other-pw")
    conductor, agent = fakes.Recorder(), fakes.Recorder()
    rt.conductor_api, rt.compute_api = conductor, agent
    tokens = {"admin": cloud.admin(), "demo": cloud.demo(),
              "other": cloud.token("other", "other-pw", "other")}
    env = fakes.ComputeEnv(cloud, tokens, conductor, agent, fakes.add_image(rt),
                           "c1.small", "c1.big",
                           {"other": other_project, "demo": cloud.ids["demo_project_id"],
                            "admin": cloud.ids["admin_project_id"]})
    # Tests boot many servers in demo; quota tests use the other project.
    body = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
    assert env.call("PUT", f"/os-quota-sets/{env.projects['demo']}", "admin",
                    body).status_code == 200
    for flavor_id, ram, vcpus, disk in (("c1.small", 512, 1, 1), ("c1.big", 1024, 2, 2)):
        body = {"flavor": {"name": flavor_id, "ram": ram, "vcpus": vcpus, "disk": disk,
                           "id": flavor_id}}
        assert env.call("POST", "/flavors", "admin", body).status_code == 200
    yield env
    for name in ("conductor_api", "compute_api"):
        rt.__dict__.pop(name, None)


@pytest.fixture
def fresh(env):
    """The env with empty recorders."""
    env.conductor.reset()
    env.agent.reset()
    return env
