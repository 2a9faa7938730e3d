"""Server actions in-process: state rules (409s), locks, the casts, consoles, instance
actions, metadata and tags, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import oslo_messaging
import pytest
import sqlalchemy as sa

from controller.compute import consoles
from controller.db.base import utcnow
from controller.db.models.image import Image
from controller.db.models.servers import ConsoleAuthToken, InstanceAction, InstanceActionEvent

# action body, the vm_state it is allowed from, one it is refused from, the task set,
# the conductor action cast.
POWER = [
    ({"os-stop": None}, "active", "stopped", "powering-off", "stop"),
    ({"os-start": None}, "stopped", "active", "powering-on", "start"),
    ({"reboot": {"type": "SOFT"}}, "active", "stopped", "rebooting", "reboot_soft"),
    ({"reboot": {"type": "hard"}}, "stopped", "building", "rebooting_hard", "reboot_hard"),
    ({"pause": None}, "active", "paused", "pausing", "pause"),
    ({"unpause": None}, "paused", "active", "unpausing", "unpause"),
    ({"suspend": None}, "active", "stopped", "suspending", "suspend"),
    ({"resume": None}, "suspended", "active", "resuming", "resume"),
    ({"confirmResize": None}, "resized", "active", "resize_confirming", "confirm_resize"),
    ({"revertResize": None}, "resized", "active", "resize_reverting", "revert_resize"),
]


def _act(env, server_id, body, user="demo", version="2.60"):
    return env.call("POST", f"/servers/{server_id}/action", user, body, version)


@pytest.mark.parametrize(("body", "allowed", "refused", "task", "cast"), POWER,
                         ids=[next(iter(p[0])) + "-" + p[4] for p in POWER])
def test_power_actions_follow_the_state_table(fresh, body, allowed, refused, task, cast):
    env = fresh
    server_id = env.boot(name=f"power-{cast}")["id"]
    env.set_state(server_id, vm_state=refused, task_state=None)
    response = _act(env, server_id, body)
    assert response.status_code == 409
    assert f"while it is in vm_state {refused}" in \
        response.get_json()["conflictingRequest"]["message"]
    env.set_state(server_id, vm_state=allowed, task_state=None)
    response = _act(env, server_id, body)
    assert response.status_code == (204 if "confirmResize" in body else 202), \
        response.get_json()
    assert env.row(server_id).task_state == task
    assert env.conductor.named("run_instance_action") == [((server_id, cast, {}), {})]
    # A second request while the first is in flight is refused by the guard.
    second = _act(env, server_id, body)
    if cast not in ("reboot_hard", "reboot_soft"):
        assert second.status_code == 409
    actions = env.call("GET", f"/servers/{server_id}/os-instance-actions").get_json()
    assert actions["instanceActions"][0]["action"] in (
        "stop", "start", "reboot", "pause", "unpause", "suspend", "resume", "confirmResize",
        "revertResize")


def test_action_body_errors(fresh):
    env = fresh
    server_id = env.boot(name="bodies")["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    for body in ({}, {"os-stop": None, "os-start": None}, {"explode": None}, [],
                 {"reboot": {"type": "GENTLE"}}, {"reboot": {}}, {"os-stop": "now"},
                 {"resize": {}}, {"createImage": {"name": ""}}):
        response = _act(env, server_id, body)
        assert response.status_code == 400, (body, response.get_json())
        assert "badRequest" in response.get_json()
    assert _act(env, server_id, {"os-resetState": {"state": "active"}}).status_code == 403
    assert not env.conductor.named("run_instance_action")


def test_bus_outage_restores_the_task_state(fresh):
    env = fresh
    server_id = env.boot(name="outage")["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    env.conductor.fail = oslo_messaging.MessageDeliveryFailure("no route")
    response = _act(env, server_id, {"os-stop": None})
    assert response.status_code == 503 and "serviceUnavailable" in response.get_json()
    env.conductor.fail = None
    assert env.row(server_id).task_state is None
    actions = env.call("GET", f"/servers/{server_id}/os-instance-actions").get_json()
    assert actions["instanceActions"][0]["message"] == "Error"
    assert _act(env, server_id, {"os-stop": None}).status_code == 202


def test_lock_rules(fresh):
    env = fresh
    server_id = env.boot(name="lockme")["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    assert _act(env, server_id, {"lock": None}).status_code == 202
    assert env.call("GET", f"/servers/{server_id}").get_json()["server"]["locked"] is True
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}}, {"pause": None}):
        response = _act(env, server_id, body)
        assert response.status_code == 409
        assert response.get_json()["conflictingRequest"]["message"] == \
            f"Instance {server_id} is locked"
    meta = env.call("POST", f"/servers/{server_id}/metadata", body={"metadata": {"a": "b"}})
    assert meta.status_code == 409
    assert _act(env, server_id, {"os-stop": None}, "admin").status_code == 202
    env.set_state(server_id, vm_state="active", task_state=None)
    assert _act(env, server_id, {"unlock": None}).status_code == 202  # owner's own lock
    # An admin's lock needs unlock_override, which a member lacks.
    assert _act(env, server_id, {"lock": {"locked_reason": "ignored below 2.73"}},
                "admin").status_code == 202
    row = env.row(server_id)
    assert (row.locked, row.locked_by, row.locked_reason) == (True, "admin", None)
    assert _act(env, server_id, {"unlock": None}).status_code == 403
    assert _act(env, server_id, {"unlock": None}, "admin").status_code == 202
    assert _act(env, server_id, {"lock": None}, "other").status_code == 404
    names = [a["action"] for a in env.call(
        "GET", f"/servers/{server_id}/os-instance-actions").get_json()["instanceActions"]]
    assert names == ["unlock", "lock", "unlock", "stop", "lock", "create"]


def test_resize_rules(fresh):
    env = fresh
    server_id = env.boot(name="resize")["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    same = _act(env, server_id, {"resize": {"flavorRef": env.flavor}})
    assert same.status_code == 400 and "must change flavor" in same.get_json()[
        "badRequest"]["message"]
    assert _act(env, server_id, {"resize": {"flavorRef": "nope"}}).status_code == 400
    tiny = {"flavor": {"name": "c1.tiny", "ram": 256, "vcpus": 1, "disk": 0,
                       "id": "c1.tiny"}}
    env.call("POST", "/flavors", "admin", tiny)
    down = _act(env, server_id, {"resize": {"flavorRef": "c1.tiny"}})
    assert down.status_code == 400 and "resize disk down" in down.get_json()[
        "badRequest"]["message"]
    assert _act(env, server_id, {"resize": {"flavorRef": env.big_flavor}}).status_code == 202
    assert env.row(server_id).task_state == "resize_prep"
    assert env.conductor.named("run_instance_action") == \
        [((server_id, "resize", {"flavor_id": env.big_flavor}), {})]


def test_rebuild(fresh):
    env = fresh
    server_id = env.boot(name="rebuild", metadata={"old": "1"})["id"]
    body = {"rebuild": {"imageRef": env.image_id, "name": "rebuilt",
                        "metadata": {"new": "2"}, "adminPass": "s3cret"}}
    assert _act(env, server_id, body).status_code == 409  # building
    env.set_state(server_id, vm_state="stopped", task_state=None)
    response = _act(env, server_id, body)
    assert response.status_code == 202, response.get_json()
    view = response.get_json()["server"]
    assert (view["name"], view["metadata"], view["adminPass"], view["status"]) == \
        ("rebuilt", {"new": "2"}, "s3cret", "REBUILD")
    assert "OS-EXT-STS:task_state" not in view
    ((args, _),) = env.conductor.named("run_instance_action")
    assert args[1] == "rebuild" and args[2]["image_id"] == env.image_id
    bad = {"rebuild": {"imageRef": "8c8bb2e4-6f5c-4b0e-9e53-1c2b7e7c0000"}}
    env.set_state(server_id, vm_state="active", task_state=None)
    assert _act(env, server_id, bad).status_code == 400


def test_create_image(fresh):
    env = fresh
    server_id = env.boot(name="snap")["id"]
    body = {"createImage": {"name": "snap-1", "metadata": {"purpose": "backup"}}}
    assert _act(env, server_id, body).status_code == 409
    with env.cloud.rt.db.session() as session:
        assert not session.scalars(sa.select(Image).where(Image.name == "snap-1")).all()
    env.set_state(server_id, vm_state="active", task_state=None)
    response = _act(env, server_id, body)
    assert response.status_code == 202
    image_id = response.get_json()["image_id"]
    assert env.row(server_id).task_state == "image_snapshot"
    with env.cloud.rt.db.session() as session:
        image = session.get(Image, image_id)
        properties = {p.name: p.value for p in image.properties}
        assert (image.status, image.owner, image.visibility) == \
            ("queued", env.projects["demo"], "private")
        assert image.min_disk == 1
    assert properties["image_type"] == "snapshot"
    assert properties["instance_uuid"] == server_id
    assert properties["base_image_ref"] == env.image_id and properties["purpose"] == "backup"
    assert env.conductor.named("run_instance_action")[-1][0] == \
        (server_id, "snapshot", {"image_id": image_id})
    env.set_state(server_id, task_state=None)
    old = _act(env, server_id, {"createImage": {"name": "snap-2"}}, version="2.44")
    assert old.status_code == 202 and old.headers["Location"].endswith(
        "/image/v2/images/" + old.headers["Location"].rsplit("/", 1)[1])


def test_reset_state(fresh):
    env = fresh
    server_id = env.boot(name="reset")["id"]
    assert _act(env, server_id, {"os-resetState": {"state": "error"}},
                "admin").status_code == 202
    row = env.row(server_id)
    assert (row.vm_state, row.task_state) == ("error", None)
    assert _act(env, server_id, {"os-resetState": {"state": "building"}},
                "admin").status_code == 400


def test_console_output_and_remote_consoles(fresh):
    env = fresh
    server_id = env.boot(name="console")["id"]
    no_host = _act(env, server_id, {"os-getConsoleOutput": {"length": 5}})
    assert no_host.status_code == 409
    env.set_state(server_id, vm_state="active", task_state=None, host="cmp1")
    env.agent.answers["get_console_output"] = lambda host, uuid, length: \
        "line\x00one\nline two\n"
    response = _act(env, server_id, {"os-getConsoleOutput": {"length": "5"}})
    assert response.status_code == 200 and response.get_json() == \
        {"output": "lineone\nline two\n"}
    assert env.agent.named("get_console_output") == [(("cmp1", server_id, 5), {})]
    assert _act(env, server_id, {"os-getConsoleOutput": {"length": -1}}).status_code == 200
    assert env.agent.named("get_console_output")[-1][0][2] is None
    env.agent.fail = oslo_messaging.MessagingTimeout("no reply")
    timeout = _act(env, server_id, {"os-getConsoleOutput": None})
    assert timeout.status_code == 503 and "cmp1" in timeout.get_json()[
        "serviceUnavailable"]["message"]
    env.agent.fail = None

    env.agent.answers["get_console_endpoint"] = {"host": "192.0.2.7", "port": 5901}
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    response = env.call("POST", f"/servers/{server_id}/remote-consoles", body=body,
                        version="2.6")
    assert response.status_code == 200, response.get_json()
    console = response.get_json()["remote_console"]
    assert console["url"].startswith("http://127.0.0.1:6080/vnc_lite.html?path=%3Ftoken%3D")
    token = console["url"].rsplit("%3D", 1)[1]
    target = consoles.consume(env.cloud.rt, token)
    assert (target.host, target.port, target.console_type, target.instance_uuid) == \
        ("192.0.2.7", 5901, "novnc", server_id)
    assert consoles.consume(env.cloud.rt, token) is None  # single use
    serial = env.call("POST", f"/servers/{server_id}/remote-consoles", body={
        "remote_console": {"protocol": "serial", "type": "serial"}}).get_json()
    assert serial["remote_console"]["url"].startswith("ws://127.0.0.1:6083/?token=")
    spice = env.call("POST", f"/servers/{server_id}/remote-consoles", body={
        "remote_console": {"protocol": "spice", "type": "spice-html5"}})
    assert spice.status_code == 400
    assert env.call("POST", f"/servers/{server_id}/remote-consoles", body=body,
                    version="2.5").status_code == 404
    legacy = _act(env, server_id, {"os-getVNCConsole": {"type": "novnc"}}, version="2.5")
    assert legacy.status_code == 200 and legacy.get_json()["console"]["type"] == "novnc"
    assert _act(env, server_id, {"os-getVNCConsole": {"type": "novnc"}}).status_code == 404
    env.set_state(server_id, vm_state="stopped")
    stopped = env.call("POST", f"/servers/{server_id}/remote-consoles", body=body)
    assert stopped.status_code == 409


def test_console_tokens_expire(env):
    rt = env.cloud.rt
    server_id = env.boot(name="tokens")["id"]
    token = consoles.create(rt, None, server_id, "serial", "h", 1)
    with rt.db.session() as session:
        session.execute(sa.update(ConsoleAuthToken).where(
            ConsoleAuthToken.instance_uuid == server_id).values(
            expires_at=utcnow() - datetime.timedelta(seconds=1)))
    assert consoles.consume(rt, token) is None
    assert consoles.consume(rt, "") is None and consoles.consume(rt, "x" * 1000) is None


def test_instance_actions_and_events(fresh):
    env = fresh
    server_id = env.boot(name="events")["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    _act(env, server_id, {"os-stop": None})
    listed = env.call("GET", f"/servers/{server_id}/os-instance-actions").get_json()[
        "instanceActions"]
    assert [a["action"] for a in listed] == ["stop", "create"]
    assert set(listed[0]) == {"action", "instance_uuid", "message", "project_id",
                              "request_id", "start_time", "user_id", "updated_at"}
    request_id = listed[1]["request_id"]
    with env.cloud.rt.db.session() as session:
        action = session.scalars(sa.select(InstanceAction).where(
            InstanceAction.request_id == request_id)).one()
        session.add(InstanceActionEvent(action_id=action.id, event="compute_build",
                                        result="Error", traceback="Traceback: boom"))
    path = f"/servers/{server_id}/os-instance-actions/{request_id}"
    admin = env.call("GET", path, "admin").get_json()["instanceAction"]
    assert admin["events"][0]["traceback"] == "Traceback: boom"
    member = env.call("GET", path).get_json()["instanceAction"]
    assert member["events"][0]["event"] == "compute_build"
    assert "traceback" not in member["events"][0]
    assert "events" not in env.call("GET", path, version="2.50").get_json()["instanceAction"]
    assert env.call("GET", path, "other").status_code == 404
    assert env.call("GET", f"/servers/{server_id}/os-instance-actions/req-nope").status_code \
        == 404
    paged = env.call("GET", f"/servers/{server_id}/os-instance-actions?limit=1").get_json()
    assert len(paged["instanceActions"]) == 1 and paged["links"][0]["rel"] == "next"


def test_metadata(fresh):
    env = fresh
    server_id = env.boot(name="meta", metadata={"a": "1"})["id"]
    base = f"/servers/{server_id}/metadata"
    assert env.call("GET", base).get_json() == {"metadata": {"a": "1"}}
    building = env.call("POST", base, body={"metadata": {"b": "2"}})
    assert building.status_code == 409
    env.set_state(server_id, vm_state="active", task_state=None)
    assert env.call("POST", base, body={"metadata": {"b": "2"}}).get_json() == \
        {"metadata": {"a": "1", "b": "2"}}
    assert env.call("PUT", base, body={"metadata": {"c": "3"}}).get_json() == \
        {"metadata": {"c": "3"}}
    assert env.call("PUT", f"{base}/d", body={"meta": {"d": "4"}}).get_json() == \
        {"meta": {"d": "4"}}
    assert env.call("GET", f"{base}/d").get_json() == {"meta": {"d": "4"}}
    assert env.call("PUT", f"{base}/d", body={"meta": {"e": "4"}}).status_code == 400
    assert env.call("PUT", f"{base}/d", body={"meta": {"d": "4", "e": "5"}}).status_code \
        == 400
    assert env.call("DELETE", f"{base}/d").status_code == 204
    assert env.call("DELETE", f"{base}/d").status_code == 404
    assert env.call("GET", f"{base}/d").status_code == 404
    too_many = {"metadata": {f"k{i}": "v" for i in range(129)}}
    response = env.call("PUT", base, body=too_many)
    assert response.status_code == 403 and "metadata items" in response.get_json()[
        "forbidden"]["message"]
    assert env.call("GET", base, "other").status_code == 404


def test_tags(fresh):
    env = fresh
    server_id = env.boot(name="tags")["id"]
    base = f"/servers/{server_id}/tags"
    assert env.call("GET", base, version="2.25").status_code == 404
    assert env.call("PUT", f"{base}/t1").status_code == 409  # building
    env.set_state(server_id, vm_state="active", task_state=None)
    assert env.call("PUT", f"{base}/t1").status_code == 201
    assert env.call("PUT", f"{base}/t1").status_code == 204
    assert env.call("GET", f"{base}/t1").status_code == 204
    assert env.call("GET", f"{base}/t2").status_code == 404
    assert env.call("PUT", base, body={"tags": ["x", "y"]}).get_json() == {"tags": ["x", "y"]}
    assert env.call("GET", base).get_json() == {"tags": ["x", "y"]}
    assert env.call("GET", "/servers?tags=x,y&name=^tags$").get_json()["servers"][0][
        "id"] == server_id
    assert env.call("GET", "/servers?not-tags-any=x&name=^tags$").get_json()["servers"] == []
    assert env.call("GET", "/servers?tags-any=q,y&name=^tags$").get_json()["servers"]
    assert env.call("PUT", base, body={"tags": [f"t{i}" for i in range(51)]}).status_code \
        == 400
    assert env.call("DELETE", f"{base}/x").status_code == 204
    assert env.call("DELETE", f"{base}/x").status_code == 404
    assert env.call("DELETE", base).status_code == 204
    assert env.call("GET", base).get_json() == {"tags": []}
