"""Snapshots and backups, and the volumes made from them."""

from __future__ import annotations

import uuid

from controller.volume.rpc import VolumeRpcManager


def test_snapshot_lifecycle_and_volume_from_snapshot(demo, agent):
    vol = demo.create_volume(2)
    snap = demo.ok("POST", "/snapshots", {"snapshot": {
        "volume_id": vol["id"], "name": "s1", "metadata": {"k": "v"}}})["snapshot"]
    assert "os-extended-snapshot-attributes:progress" not in snap  # create: summary view
    shown = demo.ok("GET", f"/snapshots/{snap['id']}")["snapshot"]
    assert (shown["status"], shown["size"], shown["volume_id"]) == ("available", 2, vol["id"])
    assert shown["os-extended-snapshot-attributes:progress"] == "100%"
    assert shown["os-extended-snapshot-attributes:project_id"] == demo.project_id
    assert shown["user_id"] and shown["metadata"] == {"k": "v"}
    assert agent.last("create_snapshot").args == {"snapshot_id": snap["id"],
                                                  "volume_id": vol["id"]}
    listed = demo.ok("GET", f"/snapshots/detail?volume_id={vol['id']}")["snapshots"]
    assert [s["id"] for s in listed] == [snap["id"]]
    renamed = demo.ok("PUT", f"/snapshots/{snap['id']}", {"snapshot": {"name": "s2"}})
    assert renamed["snapshot"]["name"] == "s2"
    assert demo.ok("POST", f"/snapshots/{snap['id']}/metadata",
                   {"metadata": {"k2": "v2"}}, status=200)["metadata"] == {"k": "v",
                                                                           "k2": "v2"}

    # A volume with snapshots cannot be deleted; one can be made from the snapshot.
    assert demo.call("DELETE", f"/volumes/{vol['id']}").status_code == 400
    too_small = demo.call("POST", "/volumes", {"volume": {"size": 1,
                                                          "snapshot_id": snap["id"]}})
    assert too_small.status_code == 400
    assert "cannot be smaller than the snapshot size" in too_small.get_data(True)
    clone = demo.ok("POST", "/volumes", {"volume": {"snapshot_id": snap["id"]}})["volume"]
    assert (clone["size"], clone["snapshot_id"]) == (2, snap["id"])
    source = agent.last("create_volume").args["volume"]["source"]
    assert source == {"type": "snapshot", "id": snap["id"], "image": None}

    demo.ok("DELETE", f"/volumes/{clone['id']}")
    demo.ok("DELETE", f"/snapshots/{snap['id']}")
    assert demo.call("GET", f"/snapshots/{snap['id']}").status_code == 404
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_snapshot_state_rules(demo, agent):
    vol = demo.create_volume(1)
    agent.auto = False
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}})["snapshot"]
    assert snap["status"] == "creating"
    response = demo.call("DELETE", f"/snapshots/{snap['id']}")
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"].startswith(
        "Invalid snapshot: Volume Snapshot status must be available or error")
    response = demo.call("POST", "/volumes", {"volume": {"snapshot_id": snap["id"]}})
    assert response.status_code == 400 and "Invalid snapshot" in response.get_data(True)
    agent.manager.snapshot_update(None, snap["id"], {"status": "error"})
    demo.ok("DELETE", f"/snapshots/{snap['id']}")
    agent.manager.snapshot_deleted(None, snap["id"])
    # cascade deletes a volume and its snapshots
    agent.auto = True
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}})["snapshot"]
    demo.ok("DELETE", f"/volumes/{vol['id']}?cascade=true")
    assert agent.names()[-2:] == ["delete_snapshot", "delete_volume"]
    assert demo.call("GET", f"/snapshots/{snap['id']}").status_code == 404


def test_snapshot_of_in_use_volume_needs_force(cloud, demo):
    from controller.volume import attachments
    from tests.functional.volume_api.test_attach import CONNECTOR, _ctx

    vol = demo.create_volume(1)
    server = str(uuid.uuid4())
    attachments.attach(cloud.rt, _ctx(demo), vol["id"], server, CONNECTOR)
    response = demo.call("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}})
    assert response.status_code == 400
    assert "status must be available, but current status is: in-use" in \
        response.get_data(True)
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"],
                                                       "force": True}})["snapshot"]
    demo.ok("DELETE", f"/snapshots/{snap['id']}")
    attachments.detach(cloud.rt, _ctx(demo), vol["id"], server)
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_backup_create_restore_delete(demo, agent):
    vol = demo.create_volume(1, name="src")
    backup = demo.ok("POST", "/backups", {"backup": {"volume_id": vol["id"],
                                                     "name": "b1"}})["backup"]
    assert set(backup) >= {"id", "links", "name"}
    shown = demo.ok("GET", f"/backups/{backup['id']}")["backup"]
    assert (shown["status"], shown["size"], shown["volume_id"]) == ("available", 1, vol["id"])
    assert shown["data_timestamp"] is not None
    assert demo.show(vol["id"])["status"] == "available"  # back from backing-up
    assert [b["id"] for b in demo.ok("GET", "/backups/detail")["backups"]] == [backup["id"]]

    # restore into a new volume: made first, then the backup is written into it
    restored = demo.ok("POST", f"/backups/{backup['id']}/restore", {"restore": {}})["restore"]
    assert restored["volume_name"] == f"restore_backup_{backup['id']}"
    assert agent.last("restore_backup").args == {"backup_id": backup["id"],
                                                 "volume_id": restored["volume_id"]}
    assert demo.show(restored["volume_id"])["status"] == "available"
    assert demo.ok("GET", f"/backups/{backup['id']}")["backup"]["status"] == "available"

    # restore into an existing volume that is large enough
    response = demo.call("POST", f"/backups/{backup['id']}/restore",
                         {"restore": {"volume_id": restored["volume_id"]}})
    assert response.status_code == 202
    demo.ok("DELETE", f"/backups/{backup['id']}")
    assert agent.last("delete_backup").args["backup_id"] == backup["id"]
    assert demo.call("GET", f"/backups/{backup['id']}").status_code == 404
    for volume_id in (vol["id"], restored["volume_id"]):
        demo.ok("DELETE", f"/volumes/{volume_id}")


def test_backup_rules(cloud, demo, agent):
    vol = demo.create_volume(1)
    for body in ({"incremental": True}, {"snapshot_id": str(uuid.uuid4())}):
        response = demo.call("POST", "/backups", {"backup": {"volume_id": vol["id"], **body}})
        assert response.status_code == 400 and "Invalid backup" in response.get_data(True)
    small = demo.create_volume(1)
    big = demo.create_volume(3)
    agent.auto = False
    backup = demo.ok("POST", "/backups", {"backup": {"volume_id": vol["id"]}})["backup"]
    assert demo.show(vol["id"])["status"] == "backing-up"
    assert demo.call("DELETE", f"/volumes/{vol['id']}").status_code == 400
    assert demo.call("DELETE", f"/backups/{backup['id']}").status_code == 400
    # The agent restarted mid-backup: the volume goes back, the backup ends in error.
    manager = VolumeRpcManager(cloud.rt)
    manager.volume_update(None, vol["id"], {"status": "available"}, ["backing-up"])
    shown = demo.ok("GET", f"/backups/{backup['id']}")["backup"]
    assert (shown["status"], shown["fail_reason"]) == ("error", "The backup was interrupted.")
    manager.backup_update(None, backup["id"], {"status": "available", "size": 2})
    response = demo.call("POST", f"/backups/{backup['id']}/restore",
                         {"restore": {"volume_id": small["id"]}})
    assert response.status_code == 400 and "too small" in response.get_data(True)
    demo.ok("POST", f"/backups/{backup['id']}/restore", {"restore": {"volume_id": big["id"]}})
    assert demo.show(big["id"])["status"] == "restoring-backup"
    manager.volume_update(None, big["id"], {"status": "available"}, ["restoring-backup"])
    manager.backup_update(None, backup["id"], {"status": "available"})
    agent.auto = True
    demo.ok("DELETE", f"/backups/{backup['id']}")
    for volume in (vol, small, big):
        demo.ok("DELETE", f"/volumes/{volume['id']}")


def test_volume_from_volume_and_backup(demo, agent):
    src = demo.create_volume(2)
    clone = demo.ok("POST", "/volumes", {"volume": {"source_volid": src["id"]}})["volume"]
    assert (clone["size"], clone["source_volid"]) == (2, src["id"])
    assert agent.last("create_volume").args["volume"]["source"]["type"] == "volume"
    backup = demo.ok("POST", "/backups", {"backup": {"volume_id": src["id"]}})["backup"]
    old = demo.call("POST", "/volumes", {"volume": {"backup_id": backup["id"]}},
                    version="3.46")
    assert old.status_code == 400
    made = demo.ok("POST", "/volumes", {"volume": {"backup_id": backup["id"]}})["volume"]
    assert agent.last("restore_backup").args["volume_id"] == made["id"]
    assert demo.show(made["id"])["status"] == "available"
    demo.ok("DELETE", f"/backups/{backup['id']}")
    for volume in (src, clone, made):
        demo.ok("DELETE", f"/volumes/{volume['id']}")
