"""Volumes through the API: versions, create/show/list/update/delete, metadata, faults."""

from __future__ import annotations

import uuid


def test_version_discovery(cloud):
    root = cloud.client.get("/volume/")
    assert root.status_code == 300
    (v3,) = root.get_json()["versions"]
    assert (v3["id"], v3["status"], v3["min_version"], v3["version"]) == \
        ("v3.0", "CURRENT", "3.0", "3.60")
    assert v3["links"][1]["href"].endswith("/volume/v3/")
    assert cloud.client.get("/volume/v3/").get_json()["versions"][0]["id"] == "v3.0"


def test_microversions(demo):
    assert demo.call("GET", "/volumes", version=None).headers["OpenStack-API-Version"] == \
        "volume 3.0"
    assert demo.call("GET", "/volumes", version="latest").headers[
        "OpenStack-API-Version"] == "volume 3.60"
    response = demo.call("GET", "/volumes", version="3.61")
    assert response.status_code == 406 and "notAcceptable" in response.get_json()
    assert demo.call("GET", "/volumes/summary", version="3.11").status_code == 404
    assert demo.call("GET", "/attachments", version="3.26").status_code == 404


def test_create_show_list_update_delete(demo, agent):
    created = demo.create_volume(2, name="v1", description="d", metadata={"a": "b"})
    assert created["status"] == "available"  # the fake agent answered at once
    assert (created["size"], created["name"], created["volume_type"]) == (2, "v1",
                                                                          "__DEFAULT__")
    assert created["bootable"] == "false" and created["metadata"] == {"a": "b"}
    assert created["os-vol-tenant-attr:tenant_id"] == demo.project_id
    assert "os-vol-host-attr:host" not in created  # admins only
    assert created["links"][0]["href"].endswith(f"/volume/v3/{demo.project_id}/volumes/"
                                                f"{created['id']}")
    call = agent.last("create_volume")
    assert call.backend == "node1@file"
    assert call.args["volume"]["source"] == {"type": "blank", "id": None, "image": None}

    listed = demo.ok("GET", "/volumes")["volumes"]
    assert {"id": created["id"], "name": "v1"}.items() <= next(
        v for v in listed if v["id"] == created["id"]).items()
    detail = demo.ok("GET", "/volumes/detail?name=v1")["volumes"]
    assert [v["id"] for v in detail] == [created["id"]]
    assert demo.ok("GET", "/volumes/detail?metadata={'a': 'b'}")["volumes"][0]["id"] == \
        created["id"]
    assert demo.ok("GET", '/volumes/detail?metadata={"a": "x"}')["volumes"] == []

    updated = demo.ok("PUT", f"/volumes/{created['id']}", {"volume": {"name": "v1b"}})
    assert updated["volume"]["name"] == "v1b"
    summary = demo.ok("GET", "/volumes/summary")["volume-summary"]
    assert summary["total_count"] >= 1 and summary["metadata"]["a"] == ["b"]

    demo.ok("DELETE", f"/volumes/{created['id']}")
    assert agent.last("delete_volume").args["volume_id"] == created["id"]
    assert demo.call("GET", f"/volumes/{created['id']}").status_code == 404


def test_project_less_urls_and_project_mismatch(demo, other):
    vol = demo.create_volume(1)
    assert demo.ok("GET", f"/volumes/{vol['id']}", project=False)["volume"]["id"] == vol["id"]
    response = demo.call("GET", "/volumes", token=other.token)  # other's token, demo's URL
    assert response.status_code == 400 and "badRequest" in response.get_json()
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_metadata_api(demo):
    vol = demo.create_volume(1, metadata={"k1": "v1"})
    path = f"/volumes/{vol['id']}/metadata"
    assert demo.ok("POST", path, {"metadata": {"k2": "v2"}}, status=200)["metadata"] == \
        {"k1": "v1", "k2": "v2"}
    assert demo.ok("PUT", path, {"metadata": {"k3": "v3"}})["metadata"] == {"k3": "v3"}
    assert demo.ok("GET", f"{path}/k3")["meta"] == {"k3": "v3"}
    assert demo.ok("PUT", f"{path}/k3", {"meta": {"k3": "new"}})["meta"] == {"k3": "new"}
    assert demo.call("PUT", f"{path}/k3", {"meta": {"other": "x"}}).status_code == 400
    assert demo.call("PUT", f"{path}/k3", {"meta": {"k3": "a", "b": "c"}}).status_code == 400
    demo.ok("DELETE", f"{path}/k3", status=200)
    assert demo.call("DELETE", f"{path}/k3").status_code == 404
    assert demo.ok("GET", path)["metadata"] == {}
    assert demo.call("POST", path, {"metadata": {"x" * 256: "v"}}).status_code == 400
    assert demo.call("POST", path, {"metadata": {"k": "v" * 256}}).status_code == 400
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_pagination_and_sorting(demo):
    ids = [demo.create_volume(1, name=f"page-{i}")["id"] for i in range(3)]
    page = demo.ok("GET", "/volumes?limit=2&sort=name:asc&name~=page-")
    assert [v["name"] for v in page["volumes"]] == ["page-0", "page-1"]
    assert "marker=" in page["volumes_links"][0]["href"]
    rest = demo.ok("GET", f"/volumes?limit=2&sort=name:asc&name~=page-&marker={ids[1]}")
    assert [v["name"] for v in rest["volumes"]] == ["page-2"]
    counted = demo.ok("GET", "/volumes?with_count=true&name~=page-")
    assert counted["count"] == 3
    assert demo.call("GET", f"/volumes?marker={uuid.uuid4()}").status_code == 400
    assert demo.call("GET", "/volumes?sort=nope:asc").status_code == 400
    assert demo.call("GET", "/volumes?sort=name:sideways").status_code == 400
    assert demo.call("GET", "/volumes?bogus=1").status_code == 400
    assert demo.call("GET", "/volumes?limit=-1").status_code == 400
    assert demo.call("GET", "/volumes?created_at=gt:2000-01-01T00:00:00").status_code == 200
    assert demo.call("GET", "/volumes?created_at=gt:yesterday").status_code == 400
    for volume_id in ids:
        demo.ok("DELETE", f"/volumes/{volume_id}")


def test_faults_are_cinder_format(demo):
    response = demo.call("GET", f"/volumes/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.get_json()["itemNotFound"]["message"].endswith("could not be found.")
    bad = demo.cloud.client.post(f"/volume/v3/{demo.project_id}/volumes", data=b"{nope",
                                 headers={"X-Auth-Token": demo.token,
                                          "Content-Type": "application/json"})
    assert bad.status_code == 400 and "badRequest" in bad.get_json()
    assert demo.call("GET", "/volumes", token="not-a-token").status_code == 401
    response = demo.action(str(uuid.uuid4()), "os-nonsense", {})
    assert response.status_code == 400
    assert "There is no such action" in response.get_json()["badRequest"]["message"]


def test_messages_and_resource_filters(demo):
    assert demo.ok("GET", "/messages") == {"messages": []}
    assert demo.call("GET", "/messages", version="3.2").status_code == 404
    assert demo.call("GET", f"/messages/{uuid.uuid4()}").status_code == 404
    filters = demo.ok("GET", "/resource_filters?resource=volume")["resource_filters"]
    assert filters[0]["resource"] == "volume" and "metadata" in filters[0]["filters"]


def test_unknown_fields_ignored_before_3_53_refused_after(demo):
    body = {"volume": {"size": 1, "bogus": "x"}, "extra": 1}
    old = demo.ok("POST", "/volumes", body, version="3.52")["volume"]
    response = demo.call("POST", "/volumes", body)
    assert response.status_code == 400 and "badRequest" in response.get_json()
    snap = {"snapshot": {"volume_id": old["id"], "unknown": True}}
    assert demo.call("POST", "/snapshots", snap).status_code == 400
    created = demo.ok("POST", "/snapshots", snap, version="3.0")["snapshot"]
    demo.ok("DELETE", f"/snapshots/{created['id']}")
    demo.ok("DELETE", f"/volumes/{old['id']}")
