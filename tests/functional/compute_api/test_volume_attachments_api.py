"""os-volume_attachments and boot from volume through the compute API in-process, with a
recording conductor and the real volume service (a recording volume agent behind it), on
SQLite and PostgreSQL: request checks, Nova's status codes and messages, project
isolation, the volume reservations the API makes, and the server view's volumes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from common.context import RequestContext
from controller.compute import block_device_mappings as bdms
from controller.db.models.block_devices import BlockDeviceMapping
from controller.db.models.volume import Volume
from controller.exceptions import ServiceUnavailable
from controller.volume import volumes as volume_service
from tests.functional.compute_api import fakes
from tests.functional.volume_api import fakes as volume_fakes

SERVERS = "/servers"


@pytest.fixture(scope="module")
def volumes(env):
    rt = env.cloud.rt
    rt.volume_agent_api = volume_fakes.FakeAgent(rt)
    volume_fakes.add_backend(rt, host="api-test")
    yield
    rt.__dict__.pop("volume_agent_api", None)


def _ctx(env, project: str = "demo") -> RequestContext:
    return RequestContext(user_id=f"u-{project}", project_id=env.projects[project],
                          roles=["member", "reader"])


def _volume(env, project: str = "demo", size: int = 1, bootable: bool = False,
            **values) -> str:
    volume_id = volume_service.create(env.cloud.rt, _ctx(env, project),
                                      {"size": size, **values}).id
    with env.cloud.rt.db.session() as session:  # what `volume set --bootable` leaves
        session.get(Volume, volume_id).bootable = bootable
    return volume_id


def _status(env, volume_id: str) -> str:
    with env.cloud.rt.db.session() as session:
        return session.get(Volume, volume_id).status


def _active(env, **server) -> str:
    server_id = env.boot(**server)["id"]
    env.set_state(server_id, vm_state="active", task_state=None)
    return server_id


def _attach(env, server_id: str, body: dict, user: str = "demo", version: str = "2.60"):
    return env.call("POST", f"{SERVERS}/{server_id}/os-volume_attachments", user,
                    {"volumeAttachment": body}, version)


def test_attach_list_show_and_detach(fresh, volumes):
    env = fresh
    server_id = _active(env, name="vol-flow")
    volume_id = _volume(env)
    response = _attach(env, server_id, {"volumeId": volume_id})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"volumeAttachment": {
        "id": volume_id, "serverId": server_id, "volumeId": volume_id, "device": "/dev/vdb"}}
    ((args, _),) = env.conductor.named("attach_volume")
    assert args == (server_id, volume_id)
    assert _status(env, volume_id) == "reserved"
    listed = env.call("GET", f"{SERVERS}/{server_id}/os-volume_attachments").get_json()
    assert listed == {"volumeAttachments": [{"id": volume_id, "serverId": server_id,
                                             "volumeId": volume_id, "device": "/dev/vdb"}]}
    assert env.call("GET", f"{SERVERS}/{server_id}/os-volume_attachments?limit=1&offset=1"
                    ).get_json() == {"volumeAttachments": []}
    assert env.call("GET", f"{SERVERS}/{server_id}/os-volume_attachments?limit=x"
                    ).status_code == 400
    shown = env.call("GET", f"{SERVERS}/{server_id}/os-volume_attachments/{volume_id}")
    assert shown.get_json()["volumeAttachment"]["device"] == "/dev/vdb"
    view = env.call("GET", f"{SERVERS}/{server_id}").get_json()["server"]
    assert view["os-extended-volumes:volumes_attached"] == [
        {"id": volume_id, "delete_on_termination": False}]
    old = env.call("GET", f"{SERVERS}/{server_id}", version="2.1").get_json()["server"]
    assert old["os-extended-volumes:volumes_attached"] == [{"id": volume_id}]
    actions = env.call("GET", f"{SERVERS}/{server_id}/os-instance-actions").get_json()
    assert "attach_volume" in [a["action"] for a in actions["instanceActions"]]

    # Still attaching: a detach is refused with Cinder's reason, a second attach too.
    detach = env.call("DELETE", f"{SERVERS}/{server_id}/os-volume_attachments/{volume_id}")
    assert detach.status_code == 400 and "not attached" in detach.get_json()[
        "badRequest"]["message"]
    again = _attach(env, server_id, {"volumeId": volume_id})
    assert again.status_code == 400, again.get_json()

    # The conductor finished the attach; now the detach goes to it.
    bdms.set_values(env.cloud.rt, bdms.find(env.cloud.rt, server_id, volume_id).id,
                    {"status": "attached"})
    detach = env.call("DELETE", f"{SERVERS}/{server_id}/os-volume_attachments/{volume_id}")
    assert detach.status_code == 202 and detach.data == b""
    ((args, _),) = env.conductor.named("detach_volume")
    assert args == (server_id, volume_id)
    assert bdms.find(env.cloud.rt, server_id, volume_id).status == "detaching"


def test_attach_errors(fresh, volumes):
    env = fresh
    server_id = _active(env, name="vol-errors")
    mine, theirs = _volume(env), _volume(env, "other")
    unknown = "8c8bb2e4-6f5c-4b0e-9e53-1c2b7e7c0000"
    cases = [
        ({"volumeId": theirs}, "2.60", 404, "could not be found"),
        ({"volumeId": unknown}, "2.60", 404, "could not be found"),
        ({"volumeId": "not-a-uuid"}, "2.60", 400, "volumeId"),
        ({"volumeId": mine, "device": "not a device"}, "2.60", 400, "device"),
        ({"volumeId": mine, "delete_on_termination": True}, "2.60", 400, "delete_on"),
        ({"volumeId": mine, "tag": "data"}, "2.48", 400, "tag"),
        ({}, "2.60", 400, "volumeId"),
    ]
    for body, version, code, text in cases:
        response = _attach(env, server_id, body, version=version)
        assert response.status_code == code, (body, response.get_json())
        assert text in str(response.get_json()), (body, response.get_json())
    assert env.conductor.named("attach_volume") == []
    assert _status(env, mine) == "available"  # nothing was reserved by a refused request

    other_server = _active(env, name="theirs", user="other")
    assert _attach(env, other_server, {"volumeId": mine}).status_code == 404
    building = env.boot(name="building")["id"]
    response = _attach(env, building, {"volumeId": mine})
    assert response.status_code == 409
    assert "Cannot 'attach_volume' instance" in response.get_json()["conflictingRequest"][
        "message"]
    assert _status(env, mine) == "available"
    multi = _volume(env, multiattach=True)
    response = _attach(env, server_id, {"volumeId": multi}, version="2.59")
    assert response.status_code == 400 and "2.60" in str(response.get_json())
    assert _attach(env, server_id, {"volumeId": mine, "tag": "data", "device": "/dev/sdc"},
                   version="2.49").status_code == 200
    row = bdms.find(env.cloud.rt, server_id, mine)
    assert (row.tag, row.device_name) == ("data", "/dev/vdb")  # sdc: libvirt picks vdX


def test_locked_server_and_bus_outage(fresh, volumes):
    env = fresh
    server_id = _active(env, name="vol-lock")
    volume_id = _volume(env)
    env.set_state(server_id, locked=True, locked_by="admin")
    response = _attach(env, server_id, {"volumeId": volume_id})
    assert response.status_code == 409 and "locked" in str(response.get_json())
    env.set_state(server_id, locked=False, locked_by=None)
    env.conductor.fail = ServiceUnavailable("bus down")
    response = _attach(env, server_id, {"volumeId": volume_id})
    assert response.status_code == 503
    assert _status(env, volume_id) == "available"
    assert bdms.find(env.cloud.rt, server_id, volume_id) is None


def test_detach_errors_and_swap(fresh, volumes):
    env = fresh
    server_id = _active(env, name="vol-detach")
    volume_id = _volume(env)
    path = f"{SERVERS}/{server_id}/os-volume_attachments/{volume_id}"
    response = env.call("DELETE", path)
    assert response.status_code == 404
    assert f"Instance {server_id} is not attached to volume {volume_id}" in \
        response.get_json()["itemNotFound"]["message"]
    assert env.call("GET", path).status_code == 404
    with env.cloud.rt.db.session() as session:  # a root volume, as a boot makes it
        session.add(bdms.new_row(server_id, source_type="volume", volume_id=volume_id,
                                 boot_index=0, device_name="/dev/vda", status="attached"))
    response = env.call("DELETE", path)
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"] == "Cannot detach a root device volume"
    body = {"volumeAttachment": {"volumeId": _volume(env)}}
    assert env.call("PUT", path, "demo", body).status_code == 403  # swap is admin's
    response = env.call("PUT", path, "admin", body)
    assert response.status_code == 409 and "not supported" in str(response.get_json())


def test_boot_from_volume_requests(fresh, volumes):
    env = fresh
    root = _volume(env, bootable=True)
    plain = _volume(env)
    theirs = _volume(env, "other", bootable=True)

    def boot(bdm, expect=202, **server):
        body = {"server": {"name": "bfv", "flavorRef": env.flavor, "networks": "none",
                           "block_device_mapping_v2": bdm, **server}}
        response = env.call("POST", SERVERS, "demo", body)
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    volume_root = {"source_type": "volume", "destination_type": "volume", "boot_index": 0}
    assert "not bootable" in str(boot([{**volume_root, "uuid": plain}], 400))
    assert "failed to get volume" in str(boot([{**volume_root, "uuid": theirs}], 400))
    assert "one of the new servers" in str(boot([{**volume_root, "uuid": root}], 400,
                                                min_count=2))
    image_root = {"source_type": "image", "uuid": env.image_id, "boot_index": 0,
                  "destination_type": "volume"}
    assert "Boot sequence" in str(boot([{**volume_root, "uuid": root, "boot_index": 1}],
                                       400))
    assert "blank volume needs a volume_size" in str(boot(
        [{"source_type": "blank", "destination_type": "volume", "boot_index": 0}], 400))
    assert "not supported" in str(boot(
        [{**image_root, "destination_type": "local"},
         {"source_type": "blank", "destination_type": "local", "volume_size": 1}], 400))
    assert "failed to get snapshot" in str(boot(
        [{"source_type": "snapshot", "uuid": theirs, "destination_type": "volume",
          "boot_index": 0}], 400))
    assert "different block_device_mapping syntaxes" in str(boot(
        [image_root], 400, block_device_mapping=[{"volume_id": root}]))
    big = fakes.add_image(env.cloud.rt, size=3 * 1024 ** 3)
    assert "Volume is smaller than the minimum size" in str(boot(
        [{**image_root, "uuid": big, "volume_size": 1}], 400))
    assert _status(env, root) == "available"  # refused requests reserved nothing

    created = boot([{**volume_root, "uuid": root}])["server"]
    server_id = created["id"]
    assert _status(env, root) == "reserved"
    view = env.call("GET", f"{SERVERS}/{server_id}").get_json()["server"]
    assert view["image"] == ""
    assert view["os-extended-volumes:volumes_attached"] == [
        {"id": root, "delete_on_termination": False}]
    ((args, _),) = env.conductor.named("build_instances")
    assert args[1]["boot_from_volume"] is True
    with env.cloud.rt.db.session() as session:
        [row] = session.scalars(sa.select(BlockDeviceMapping).where(
            BlockDeviceMapping.instance_uuid == server_id)).all()
    assert (row.device_name, row.boot_index, row.attachment_id is not None) == \
        ("/dev/vda", 0, True)

    # A volume-backed server is not rebuilt nor imaged here (Nova's 400 / a clear 409).
    env.set_state(server_id, vm_state="active", task_state=None)
    rebuild = env.call("POST", f"{SERVERS}/{server_id}/action", "demo",
                       {"rebuild": {"imageRef": env.image_id}})
    assert rebuild.status_code == 400 and "volume-backed" in str(rebuild.get_json())
    snapshot = env.call("POST", f"{SERVERS}/{server_id}/action", "demo",
                        {"createImage": {"name": "x"}})
    assert snapshot.status_code == 409 and "volume snapshot" in str(snapshot.get_json())

    from_image = boot([{**image_root, "volume_size": 2, "delete_on_termination": True},
                       {"source_type": "blank", "destination_type": "volume",
                        "volume_size": 1}])["server"]["id"]
    rows = bdms.list_(env.cloud.rt, from_image)
    assert [(r.source_type, r.device_name, r.volume_size, r.delete_on_termination,
             r.volume_id) for r in rows] == [("image", "/dev/vda", 2, True, None),
                                             ("blank", "/dev/vdb", 1, False, None)]
    assert env.call("GET", f"{SERVERS}/{from_image}").get_json()["server"]["image"] == ""
