"""Volume actions: extend, flags, admin resets, force delete, retype, image metadata and
upload to the image service (the image record is made through the image service)."""

from __future__ import annotations

import uuid

import pytest

from common.context import RequestContext
from controller import exceptions
from controller.image import images


def test_extend(admin, demo, agent):
    vol = demo.create_volume(1)
    assert demo.action(vol["id"], "os-extend", {"new_size": 3}).status_code == 202
    assert agent.last("extend_volume").args == {"volume_id": vol["id"], "new_size": 3}
    assert demo.show(vol["id"])["size"] == 3
    response = demo.action(vol["id"], "os-extend", {"new_size": 2})
    assert response.status_code == 400
    assert response.get_json()["badRequest"]["message"] == (
        "Invalid input received: New size for extend must be greater than current size. "
        "(current: 3, extended: 2).")
    # No room on the pool: refused, nothing claimed.
    response = demo.action(vol["id"], "os-extend", {"new_size": 500})
    assert response.status_code in (400, 413)
    agent.auto = False
    assert demo.action(vol["id"], "os-extend", {"new_size": "4"}).status_code == 202
    assert demo.show(vol["id"])["status"] == "extending"
    assert demo.action(vol["id"], "os-extend", {"new_size": 5}).status_code == 400
    agent.manager.volume_update(None, vol["id"], {"status": "error_extending"}, ["extending"])
    pools = admin.ok("GET", "/scheduler-stats/get_pools?detail=true")["pools"]
    node1 = next(p for p in pools if p["name"] == "node1@file#file")
    shown = demo.show(vol["id"])
    assert (shown["status"], shown["size"]) == ("error_extending", 3)
    assert node1["capabilities"]["allocated_capacity_gb"] >= 3
    agent.auto = True
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_flags_and_admin_actions(admin, demo, agent):
    vol = demo.create_volume(1)
    vid = vol["id"]
    assert demo.action(vid, "os-set_bootable", {"bootable": "true"}).status_code == 200
    assert demo.show(vid)["bootable"] == "true"
    assert demo.action(vid, "os-set_bootable", {"bootable": "maybe"}).status_code == 400
    assert demo.action(vid, "os-reset_status", {"status": "error"}).status_code == 403
    assert admin.action(vid, "os-reset_status", {"status": "nonsense"},
                        project=False).status_code == 400
    assert admin.action(vid, "os-reset_status", {"status": "error"},
                        project=False).status_code == 202
    assert demo.show(vid)["status"] == "error"
    assert admin.action(vid, "os-reset_status", {"status": "maintenance"},
                        project=False).status_code == 202
    assert demo.call("DELETE", f"/volumes/{vid}").status_code == 400
    assert demo.action(vid, "os-force_delete", {}).status_code == 403
    assert admin.action(vid, "os-force_delete", {}, project=False).status_code == 202
    assert agent.last("delete_volume").args["volume_id"] == vid
    assert demo.call("GET", f"/volumes/{vid}").status_code == 404


def test_retype_on_same_backend(admin, demo):
    name = f"silver-{uuid.uuid4().hex[:6]}"
    admin.ok("POST", "/types", {"volume_type": {
        "name": name, "extra_specs": {"volume_backend_name": "file"}}}, status=200)
    elsewhere = f"elsewhere-{uuid.uuid4().hex[:6]}"
    admin.ok("POST", "/types", {"volume_type": {
        "name": elsewhere, "extra_specs": {"volume_backend_name": "other"}}}, status=200)
    vol = demo.create_volume(1)
    assert demo.action(vol["id"], "os-retype", {"new_type": name}).status_code == 202
    assert demo.show(vol["id"])["volume_type"] == name
    response = demo.action(vol["id"], "os-retype", {"new_type": elsewhere})
    assert response.status_code == 400 and "migration" in response.get_data(True)
    assert demo.action(vol["id"], "os-retype", {"new_type": "nope"}).status_code == 404
    demo.ok("DELETE", f"/volumes/{vol['id']}")
    admin.ok("DELETE", f"/types/{name}")
    admin.ok("DELETE", f"/types/{elsewhere}")


def test_upload_to_image_and_image_metadata(cloud, demo, agent):
    vol = demo.create_volume(1)
    vid = vol["id"]
    response = demo.action(vid, "os-set_image_metadata", {"metadata": {"hw_disk_bus": "scsi"}})
    assert response.get_json() == {"metadata": {"hw_disk_bus": "scsi"}}
    assert demo.show(vid)["volume_image_metadata"] == {"hw_disk_bus": "scsi"}
    assert demo.action(vid, "os-unset_image_metadata", {"key": "nope"}).status_code == 404

    agent.auto = False
    response = demo.action(vid, "os-volume_upload_image", {
        "image_name": "from-volume", "disk_format": "qcow2", "visibility": "private"},
        version="3.1")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()["os-volume_upload_image"]
    assert (body["status"], body["disk_format"], body["container_format"]) == \
        ("uploading", "qcow2", "bare")
    image = images.get(cloud.rt, RequestContext(project_id=demo.project_id, roles=["member"]),
                       body["image_id"])
    assert (image.status, image.name, image.owner) == ("queued", "from-volume",
                                                       demo.project_id)
    assert {p.name: p.value for p in image.properties} == {"hw_disk_bus": "scsi"}
    assert agent.last("copy_volume_to_image").args["image"]["id"] == image.id
    assert demo.show(vid)["status"] == "uploading"
    assert demo.call("DELETE", f"/volumes/{vid}").status_code == 400
    agent.manager.image_uploaded(None, vid, image.id)
    assert demo.show(vid)["status"] == "available"

    # A failed upload takes its image record away again.
    response = demo.action(vid, "os-volume_upload_image", {"image_name": "bad"})
    failed_id = response.get_json()["os-volume_upload_image"]["image_id"]
    agent.manager.image_uploaded(None, vid, failed_id, error="disk full")
    assert demo.show(vid)["status"] == "available"
    ctx = RequestContext(project_id=demo.project_id, roles=["member"])
    with pytest.raises(exceptions.NotFound):
        images.get(cloud.rt, ctx, failed_id)
    bad = demo.action(vid, "os-volume_upload_image", {"image_name": "x", "disk_format": "vmdk"})
    assert bad.status_code == 400 and "Invalid disk-format" in bad.get_data(True)
    public = demo.action(vid, "os-volume_upload_image", {"image_name": "x",
                                                         "visibility": "public"})
    assert public.status_code == 403
    agent.auto = True
    demo.ok("DELETE", f"/volumes/{vid}")


def test_volume_from_image(cloud, demo, agent):
    import sqlalchemy as sa

    from controller.db.models.image import Image

    ctx = RequestContext(project_id=demo.project_id, roles=["member"])
    image = images.create(cloud.rt, ctx, {"name": "tiny", "disk_format": "qcow2",
                                          "container_format": "bare", "min_disk": 2},
                          {"hw_disk_bus": "virtio"}, [])
    response = demo.call("POST", "/volumes", {"volume": {"size": 2, "imageRef": image.id}})
    assert response.status_code == 400 and "is not active" in response.get_data(True)
    with cloud.rt.db.session() as session:
        session.execute(sa.update(Image).where(Image.id == image.id).values(
            status="active", size=3 * 1024 ** 3 + 1, os_hash_algo="sha512",
            os_hash_value="ab"))
    for size, message in ((2, "Size of specified image 4GB is larger than volume size 2GB"),
                          (1, "Size of specified image 4GB")):
        response = demo.call("POST", "/volumes", {"volume": {"size": size,
                                                             "imageRef": image.id}})
        assert response.status_code == 400 and message in response.get_data(True)
    vol = demo.ok("POST", "/volumes", {"volume": {"size": 4, "imageRef": image.id}})["volume"]
    assert vol["bootable"] == "true"
    assert vol["volume_image_metadata"]["image_id"] == image.id
    assert vol["volume_image_metadata"]["image_name"] == "tiny"
    assert vol["volume_image_metadata"]["hw_disk_bus"] == "virtio"
    source = agent.last("create_volume").args["volume"]["source"]
    assert source == {"type": "image", "id": image.id, "image": {
        "id": image.id, "disk_format": "qcow2", "os_hash_algo": "sha512",
        "os_hash_value": "ab", "size": 3 * 1024 ** 3 + 1}}
    # Its snapshot and clones carry the image metadata on (bootable too).
    clone = demo.ok("POST", "/volumes", {"volume": {"source_volid": vol["id"]}})["volume"]
    assert clone["bootable"] == "true" and clone["volume_image_metadata"]["image_id"] == \
        image.id
    for volume_id in (clone["id"], vol["id"]):
        demo.ok("DELETE", f"/volumes/{volume_id}")
