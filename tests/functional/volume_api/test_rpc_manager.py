"""VolumeRpcManager: the agents' reports, applied with guards, and what they start."""

from __future__ import annotations

import uuid

from controller.volume import attachments
from controller.volume.rpc import VolumeRpcManager
from tests.functional.volume_api.test_attach import CONNECTOR, _ctx


def test_volume_update_guard_and_whitelist(cloud, demo, agent):
    manager = VolumeRpcManager(cloud.rt)
    agent.auto = False
    vol = demo.create_volume(1)
    assert vol["status"] == "creating"
    # A guard that does not hold (the volume moved on, or is gone): nothing changes.
    assert manager.volume_update(None, vol["id"], {"status": "available"}, ["extending"]) \
        is None
    assert manager.volume_update(None, str(uuid.uuid4()), {"status": "available"}) is None
    result = manager.volume_update(None, vol["id"], {
        "status": "available", "provider_location": "/x", "project_id": "evil",
        "size": 1}, ["creating"])
    assert result["status"] == "available"
    assert demo.show(vol["id"])["os-vol-tenant-attr:tenant_id"] == demo.project_id
    assert manager.volume_update(None, vol["id"], {"status": "bogus"}) is not None
    assert demo.show(vol["id"])["status"] == "available"
    demo.ok("DELETE", f"/volumes/{vol['id']}")
    assert demo.call("GET", f"/volumes/{vol['id']}").status_code == 200  # deleting
    # The volume is deleted meanwhile: a late create report answers None (agent undoes).
    assert manager.volume_update(None, vol["id"], {"status": "available"},
                                 ["creating"]) is None
    manager.volume_deleted(None, vol["id"])
    manager.volume_deleted(None, vol["id"])  # idempotent
    assert demo.call("GET", f"/volumes/{vol['id']}").status_code == 404


def test_volumes_on_backend_lists_exports_and_recent_deletes(cloud, demo, agent):
    manager = VolumeRpcManager(cloud.rt)
    kept = demo.create_volume(1)
    gone = demo.create_volume(1)
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": kept["id"]}})["snapshot"]
    server = str(uuid.uuid4())
    attachments.attach(cloud.rt, _ctx(demo), kept["id"], server, CONNECTOR)
    demo.ok("DELETE", f"/volumes/{gone['id']}")
    entries = {e["id"]: e for e in manager.volumes_on_backend(None, "node1@file")}
    assert entries[kept["id"]]["exports"] == [{"host": "compute1", "ip": "192.0.2.10",
                                               "initiator": CONNECTOR["initiator"]}]
    assert (entries[kept["id"]]["status"], entries[kept["id"]]["deleted"]) == ("in-use",
                                                                               False)
    assert entries[gone["id"]]["deleted"] is True
    assert entries[snap["id"]]["kind"] == "snapshot"
    assert manager.volumes_on_backend(None, "node1@fil") == []  # no prefix confusion
    attachments.detach(cloud.rt, _ctx(demo), kept["id"], server)
    demo.ok("DELETE", f"/snapshots/{snap['id']}")
    demo.ok("DELETE", f"/volumes/{kept['id']}")


def test_extend_report_while_attached_keeps_in_use(cloud, demo, agent):
    manager = VolumeRpcManager(cloud.rt)
    vol = demo.create_volume(1)
    server = str(uuid.uuid4())
    attachments.attach(cloud.rt, _ctx(demo), vol["id"], server, CONNECTOR)
    agent.auto = False
    response = demo.action(vol["id"], "os-extend", {"new_size": 2}, version="3.41")
    assert response.status_code == 400  # attached volumes extend from 3.42
    assert demo.action(vol["id"], "os-extend", {"new_size": 2}).status_code == 202
    manager.volume_update(None, vol["id"], {"status": "available", "size": 2}, ["extending"])
    shown = demo.show(vol["id"])
    assert (shown["status"], shown["size"]) == ("in-use", 2)
    attachments.detach(cloud.rt, _ctx(demo), vol["id"], server)
    agent.auto = True
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_failed_create_releases_a_backup_restore(cloud, demo, agent):
    manager = VolumeRpcManager(cloud.rt)
    src = demo.create_volume(1)
    backup = demo.ok("POST", "/backups", {"backup": {"volume_id": src["id"]}})["backup"]
    agent.auto = False
    made = demo.ok("POST", "/volumes", {"volume": {"backup_id": backup["id"]}})["volume"]
    assert demo.ok("GET", f"/backups/{backup['id']}")["backup"]["status"] == "restoring"
    manager.volume_update(None, made["id"], {"status": "error"}, ["creating"])
    assert demo.ok("GET", f"/backups/{backup['id']}")["backup"]["status"] == "available"
    agent.auto = True
    demo.ok("DELETE", f"/backups/{backup['id']}")
    for volume in (src, made):
        demo.ok("DELETE", f"/volumes/{volume['id']}")
