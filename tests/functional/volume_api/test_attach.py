"""Attachments (3.27+ API, legacy actions, compute's in-process calls) and the state rules
they drive: a volume's status follows its attachments; an attached volume cannot go."""

from __future__ import annotations

import uuid

from common.context import RequestContext
from controller.volume import attachments

CONNECTOR = {"host": "compute1", "ip": "192.0.2.10",
             "initiator": "iqn.1993-08.org.debian:01:abc", "platform": "x86_64"}
DELETE_REFUSED = ("Invalid volume: Volume status must be available or error or "
                  "error_restoring or error_extending or error_managing and must not be "
                  "migrating, attached, belong to a group, have snapshots or be "
                  "disassociated from snapshots after volume transfer.")


def _ctx(volumes) -> RequestContext:
    return RequestContext(user_id="u", project_id=volumes.project_id, roles=["member"])


def test_attachments_api_lifecycle(demo, agent):
    vol = demo.create_volume(1)
    server = str(uuid.uuid4())
    reserved = demo.ok("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": server}}, status=200)["attachment"]
    assert reserved["status"] == "reserved" and reserved["connection_info"] == {}
    assert demo.show(vol["id"])["status"] == "reserved"
    # A second attachment of a non-multiattach volume is refused.
    response = demo.call("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4())}})
    assert response.status_code == 400

    updated = demo.ok("PUT", f"/attachments/{reserved['id']}",
                      {"attachment": {"connector": CONNECTOR}})["attachment"]
    assert updated["status"] == "attaching"
    info = updated["connection_info"]
    assert info["driver_volume_type"] == "iscsi" and info["data"]["access_mode"] == "rw"
    assert agent.last("initialize_connection").args["connector"] == {
        "host": "compute1", "ip": "192.0.2.10", "initiator": CONNECTOR["initiator"]}
    assert demo.show(vol["id"])["status"] == "attaching"

    assert demo.call("POST", f"/attachments/{reserved['id']}/action",
                     {"os-complete": {}}).status_code == 204
    shown = demo.show(vol["id"])
    assert (shown["status"], shown["metadata"]["attached_mode"]) == ("in-use", "rw")
    (entry,) = shown["attachments"]
    assert (entry["server_id"], entry["attachment_id"], entry["host_name"]) == \
        (server, reserved["id"], "compute1")

    # Deleting an attached volume is refused with Cinder's error, and nothing changes.
    response = demo.call("DELETE", f"/volumes/{vol['id']}")
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"] == DELETE_REFUSED
    assert demo.show(vol["id"])["status"] == "in-use"
    listed = demo.ok("GET", f"/attachments?volume_id={vol['id']}")["attachments"]
    assert [a["id"] for a in listed] == [reserved["id"]]
    assert "connection_info" in demo.ok("GET", "/attachments/detail")["attachments"][0]

    remaining = demo.ok("DELETE", f"/attachments/{reserved['id']}", status=200)
    assert remaining == {"attachments": []}
    assert agent.last("terminate_connection").args["volume_id"] == vol["id"]
    shown = demo.show(vol["id"])
    assert (shown["status"], shown["attachments"]) == ("available", [])
    assert "attached_mode" not in shown["metadata"]
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_failed_export_keeps_nothing(demo, agent):
    vol = demo.create_volume(1)
    agent.fail_connections = True
    response = demo.call("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4()),
        "connector": CONNECTOR}})
    assert response.status_code == 503 and "serviceUnavailable" in response.get_json()
    shown = demo.show(vol["id"])
    assert (shown["status"], shown["attachments"]) == ("available", [])
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_compute_in_process_attach_detach(cloud, demo, agent):
    vol = demo.create_volume(1)
    server = str(uuid.uuid4())
    info = attachments.attach(cloud.rt, _ctx(demo), vol["id"], server, CONNECTOR, "/dev/vdb")
    assert info["data"]["target_lun"] == 1
    shown = demo.show(vol["id"])
    assert shown["status"] == "in-use" and shown["attachments"][0]["device"] == "/dev/vdb"
    attachments.detach(cloud.rt, _ctx(demo), vol["id"], server)
    attachments.detach(cloud.rt, _ctx(demo), vol["id"], server)  # idempotent
    assert demo.show(vol["id"])["status"] == "available"
    assert agent.names().count("terminate_connection") == 1
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_readonly_volumes_attach_read_only(cloud, demo):
    vol = demo.create_volume(1)
    assert demo.action(vol["id"], "os-update_readonly_flag",
                       {"readonly": True}).status_code == 202
    assert demo.show(vol["id"])["metadata"]["readonly"] == "True"
    server = str(uuid.uuid4())
    info = attachments.attach(cloud.rt, _ctx(demo), vol["id"], server, CONNECTOR)
    assert info["data"]["access_mode"] == "ro"
    attachments.detach(cloud.rt, _ctx(demo), vol["id"], server)
    response = demo.call("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": server, "mode": "rw"}})
    assert response.status_code == 400 and "Invalid attaching mode" in response.get_data(True)
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_legacy_attach_detach_actions(demo, agent):
    vol = demo.create_volume(1)
    vid = vol["id"]
    assert demo.action(vid, "os-reserve").status_code == 202
    assert demo.show(vid)["status"] == "attaching"
    assert demo.action(vid, "os-reserve").status_code == 400  # already reserved
    assert demo.action(vid, "os-unreserve").status_code == 202
    assert demo.show(vid)["status"] == "available"

    assert demo.action(vid, "os-reserve").status_code == 202
    response = demo.action(vid, "os-initialize_connection", {"connector": CONNECTOR})
    assert response.status_code == 200
    assert response.get_json()["connection_info"]["data"]["target_portal"] == "127.0.0.1:3260"
    server = str(uuid.uuid4())
    assert demo.action(vid, "os-attach", {"instance_uuid": server,
                                          "mountpoint": "/dev/vdc"}).status_code == 202
    shown = demo.show(vid)
    assert shown["status"] == "in-use" and shown["attachments"][0]["server_id"] == server
    assert demo.action(vid, "os-attach", {"mountpoint": "/dev/vdc"}).status_code == 400
    assert demo.action(vid, "os-begin_detaching").status_code == 202
    assert demo.show(vid)["status"] == "detaching"
    assert demo.action(vid, "os-roll_detaching").status_code == 202
    assert demo.show(vid)["status"] == "in-use"
    assert demo.action(vid, "os-begin_detaching").status_code == 202
    assert demo.action(vid, "os-terminate_connection",
                       {"connector": CONNECTOR}).status_code == 202
    attachment_id = shown["attachments"][0]["attachment_id"]
    assert demo.action(vid, "os-detach", {"attachment_id": str(uuid.uuid4())}).status_code \
        == 404
    assert demo.action(vid, "os-detach", {"attachment_id": attachment_id}).status_code == 202
    assert demo.show(vid)["status"] == "available"
    assert demo.action(vid, "os-begin_detaching").status_code == 400  # not in-use
    demo.ok("DELETE", f"/volumes/{vid}")


def test_multiattach(demo, admin):
    vtype = admin.ok("POST", "/types", {"volume_type": {
        "name": f"multi-{uuid.uuid4().hex[:6]}",
        "extra_specs": {"multiattach": "<is> True"}}}, status=200)["volume_type"]
    vol = demo.create_volume(1, volume_type=vtype["id"])
    assert vol["multiattach"] is True
    servers = [str(uuid.uuid4()) for _ in range(2)]
    ids = []
    for server in servers:
        created = demo.ok("POST", "/attachments", {"attachment": {
            "volume_uuid": vol["id"], "instance_uuid": server,
            "connector": {**CONNECTOR, "host": server[:8]}}}, status=200)["attachment"]
        demo.call("POST", f"/attachments/{created['id']}/action", {"os-complete": None})
        ids.append(created["id"])
    assert len(demo.show(vol["id"])["attachments"]) == 2
    left = demo.ok("DELETE", f"/attachments/{ids[0]}", status=200)["attachments"]
    assert [a["id"] for a in left] == [ids[1]]
    assert demo.show(vol["id"])["status"] == "in-use"
    demo.ok("DELETE", f"/attachments/{ids[1]}", status=200)
    demo.ok("DELETE", f"/volumes/{vol['id']}")
    admin.ok("DELETE", f"/types/{vtype['id']}")


def test_attachments_are_project_scoped(demo, other):
    vol = demo.create_volume(1)
    created = demo.ok("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4())}}, status=200)
    attachment_id = created["attachment"]["id"]
    assert other.call("GET", f"/attachments/{attachment_id}").status_code == 404
    assert other.call("DELETE", f"/attachments/{attachment_id}").status_code == 404
    assert other.ok("GET", "/attachments")["attachments"] == []
    assert other.call("POST", "/attachments", {"attachment": {
        "volume_uuid": vol["id"], "instance_uuid": str(uuid.uuid4())}}).status_code == 404
    demo.ok("DELETE", f"/attachments/{attachment_id}", status=200)
    demo.ok("DELETE", f"/volumes/{vol['id']}")
