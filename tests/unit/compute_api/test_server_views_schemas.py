"""Server views per microversion and the server body schemas, without a database."""

from __future__ import annotations

import datetime
import types

import flask
import pytest

from controller import exceptions
from controller.api import microversions, validation
from controller.api.compute import server_views
from controller.api.compute.schemas import servers as schemas
from controller.compute.servers import Described

IMAGE = "8c8bb2e4-6f5c-4b0e-9e53-1c2b7e7c0000"
CREATED = datetime.datetime(2026, 12, 1, 11, 4, 38, 557436)


def _instance(**overrides):
    values = dict(
        uuid="11111111-2222-3333-4444-555555555555", display_name="vm", project_id="p1",
        user_id="u1", vm_state="active", task_state=None, power_state=1, deleted=False,
        host="cmp1", node="cmp1", image_ref=IMAGE, flavor_id="f1",
        flavor={"id": "f1", "name": "m1", "memory_mb": 64, "vcpus": 1, "root_gb": 1,
                "ephemeral_gb": 0, "swap": 0, "extra_specs": {"hw:x": "y"}},
        created_at=CREATED, updated_at=CREATED, launched_at=CREATED, terminated_at=None,
        access_ip_v4=None, access_ip_v6=None, system_metadata={}, progress=0,
        availability_zone="nova", config_drive=False, key_name=None, locked=False,
        display_description="d", reservation_id="r-1", launch_index=0, hostname="vm",
        user_data=None, metadata_items=[types.SimpleNamespace(key="k", value="v")],
        tags=[types.SimpleNamespace(tag="b"), types.SimpleNamespace(tag="a")])
    values.update(overrides)
    return types.SimpleNamespace(**values)


@pytest.fixture
def at():
    app = flask.Flask("t")

    def serve(version: str):
        ctx = app.test_request_context("http://api.test/compute/v2.1/servers")
        ctx.push()
        flask.g.compute_version = microversions.Version.parse(version)
        return ctx
    contexts = []
    yield lambda version: contexts.append(serve(version))
    for ctx in reversed(contexts):
        ctx.pop()


def test_view_at_21(at):
    at("2.1")
    view = server_views.server(Described(_instance()), server_views.Options())
    assert view["status"] == "ACTIVE" and view["progress"] == 0
    assert view["flavor"] == {"id": "f1", "links": [
        {"rel": "bookmark", "href": "http://api.test/compute/flavors/f1"}]}
    assert view["image"]["id"] == IMAGE
    assert view["created"] == "2026-12-01T11:04:38Z"
    assert view["OS-SRV-USG:launched_at"] == "2026-12-01T11:04:38.557436"
    assert len(view["hostId"]) == 56 and view["metadata"] == {"k": "v"}
    assert not {"locked", "description", "tags", "OS-EXT-SRV-ATTR:host"} & set(view)
    assert view["links"][0]["href"].endswith("/v2.1/servers/" + view["id"])


def test_view_at_260_for_admin(at):
    at("2.60")
    options = server_views.Options(admin_attrs=True, host_status=True, extra_specs=True,
                                   is_admin=True)
    view = server_views.server(Described(_instance(), host_status="UP"), options)
    assert view["flavor"] == {"vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0, "swap": 0,
                              "original_name": "m1", "extra_specs": {"hw:x": "y"}}
    assert (view["locked"], view["description"], view["tags"], view["host_status"]) == \
        (False, "d", ["a", "b"], "UP")
    assert view["OS-EXT-SRV-ATTR:hostname"] == "vm"
    assert view["OS-EXT-SRV-ATTR:instance_name"] == \
        "instance-11111111-2222-3333-4444-555555555555"


def test_short_view_and_fault(at):
    at("2.60")
    fault = types.SimpleNamespace(code=500, message="boom", details="tb",
                                  created_at=CREATED)
    instance = _instance(vm_state="error", image_ref=None)
    member = server_views.server(Described(instance, fault), server_views.Options(),
                                 full=False)
    assert member["status"] == "ERROR" and "progress" not in member
    assert member["fault"] == {"code": 500, "created": "2026-12-01T11:04:38Z",
                               "message": "boom"}
    assert member["image"] == "" and "OS-EXT-STS:vm_state" not in member
    admin = server_views.server(Described(instance, fault),
                                server_views.Options(is_admin=True))
    assert admin["fault"]["details"] == "tb"
    assert server_views.host_id("p1", None) == ""


def test_create_schema_by_microversion():
    at = lambda version: microversions.Version.parse(version) <= current  # noqa: E731
    body = {"server": {"name": "x", "flavorRef": "1", "imageRef": IMAGE}}
    current = microversions.Version.parse("2.36")
    validation.validate(schemas.create(at), body)
    validation.validate(schemas.create(at), {"server": {**body["server"],
                                                        "networks": []}})
    current = microversions.Version.parse("2.37")
    with pytest.raises(exceptions.ValidationError, match="networks"):
        validation.validate(schemas.create(at), body)
    validation.validate(schemas.create(at), {"server": {**body["server"],
                                                        "networks": "none"}})
    assert schemas.create(at) is schemas.create(at)  # cached: validators stay bounded
    with_personality = {"server": {**body["server"], "networks": "auto",
                                   "personality": []}}
    validation.validate(schemas.create(at), with_personality)
    current = microversions.Version.parse("2.57")
    with pytest.raises(exceptions.ValidationError):
        validation.validate(schemas.create(at), with_personality)


@pytest.mark.parametrize("server", [
    {"name": "", "flavorRef": "1"}, {"name": "x"}, {"name": "x", "flavorRef": ""},
    {"name": "x", "flavorRef": "1", "min_count": "a"},
    {"name": "x", "flavorRef": "1", "metadata": {"": "v"}},
    {"name": "x", "flavorRef": "1", "metadata": {"k": "v" * 256}},
    {"name": "x", "flavorRef": "1", "accessIPv6": "nope"},
    {"name": "x", "flavorRef": "1", "config_drive": "maybe"},
    {"name": "x", "flavorRef": "1", "user_data": "x" * 65536},
    {"name": "x", "flavorRef": "1", "unknown": 1},
])
def test_create_schema_rejects(server):
    at = lambda version: True  # noqa: E731
    with pytest.raises(exceptions.ValidationError):
        validation.validate(schemas.create(at), {"server": {"networks": "none", **server}})


def test_action_schemas():
    validation.validate(schemas.REBOOT, {"reboot": {"type": "Soft"}})
    validation.validate(schemas.CONSOLE_OUTPUT, {"os-getConsoleOutput": {"length": "-1"}})
    validation.validate(schemas.CONSOLE_OUTPUT, {"os-getConsoleOutput": None})
    for schema, body in ((schemas.REBOOT, {"reboot": {"type": "cold"}}),
                         (schemas.CONSOLE_OUTPUT, {"os-getConsoleOutput": {"length": -2}}),
                         (schemas.RESET_STATE, {"os-resetState": {"state": "stopped"}}),
                         (schemas.REMOTE_CONSOLE, {"remote_console": {"protocol": "vnc"}}),
                         (schemas.RESIZE, {"resize": {"flavorRef": "1", "x": 1}})):
        with pytest.raises(exceptions.ValidationError):
            validation.validate(schema, body)
