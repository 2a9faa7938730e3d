"""Volume types (extra specs, access), quotas and limits, services, zones, pools."""

from __future__ import annotations

import uuid

import pytest

from tests.functional.volume_api import fakes


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_types_crud_and_extra_specs(admin, demo):
    types = admin.ok("GET", "/types")["volume_types"]
    assert "__DEFAULT__" in [t["name"] for t in types]
    name = _name("gold")
    created = admin.ok("POST", "/types", {"volume_type": {
        "name": name, "description": "fast", "extra_specs": {"volume_backend_name": "file"}}},
        status=200)["volume_type"]
    assert (created["is_public"], created["os-volume-type-access:is_public"]) == (True, True)
    assert created["extra_specs"] == {"volume_backend_name": "file"}
    tid = created["id"]
    assert admin.call("POST", "/types", {"volume_type": {"name": name}}).status_code == 409
    assert demo.call("POST", "/types", {"volume_type": {"name": "x"}}).status_code == 403
    assert demo.ok("GET", f"/types/{tid}")["volume_type"]["extra_specs"] == {}  # not admin
    assert admin.ok("POST", f"/types/{tid}/extra_specs", {"extra_specs": {"k": "v"}},
                    status=200)["extra_specs"] == {"k": "v"}
    assert admin.ok("PUT", f"/types/{tid}/extra_specs/k", {"k": "w"}) == {"k": "w"}
    assert admin.call("PUT", f"/types/{tid}/extra_specs/k", {"j": "w"}).status_code == 400
    assert admin.ok("GET", f"/types/{tid}/extra_specs/k") == {"k": "w"}
    admin.ok("DELETE", f"/types/{tid}/extra_specs/k")
    assert admin.call("DELETE", f"/types/{tid}/extra_specs/k").status_code == 404
    updated = admin.ok("PUT", f"/types/{tid}", {"volume_type": {"description": "faster"}})
    assert updated["volume_type"]["description"] == "faster"
    assert admin.ok("GET", f"/types/{name}")["volume_type"]["id"] == tid  # by name too

    vol = demo.create_volume(1, volume_type=name)
    assert vol["volume_type"] == name
    response = admin.call("DELETE", f"/types/{tid}")
    assert response.status_code == 400 and "Invalid volume type" in response.get_data(True)
    demo.ok("DELETE", f"/volumes/{vol['id']}")
    admin.ok("DELETE", f"/types/{tid}")
    default = admin.ok("GET", "/types/default")["volume_type"]
    assert admin.call("DELETE", f"/types/{default['id']}").status_code == 400


def test_private_types_and_access(admin, demo, other):
    name = _name("private")
    tid = admin.ok("POST", "/types", {"volume_type": {
        "name": name, "os-volume-type-access:is_public": False}}, status=200)["volume_type"]["id"]
    assert demo.call("GET", f"/types/{tid}").status_code == 404
    assert demo.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": name}}) \
        .status_code == 404
    admin.ok("POST", f"/types/{tid}/action", {"addProjectAccess": {"project": demo.project_id}})
    assert admin.call("POST", f"/types/{tid}/action", {
        "addProjectAccess": {"project": demo.project_id}}).status_code == 409
    assert admin.ok("GET", f"/types/{tid}/os-volume-type-access")["volume_type_access"] == \
        [{"volume_type_id": tid, "project_id": demo.project_id}]
    assert name in [t["name"] for t in demo.ok("GET", "/types")["volume_types"]]
    assert name not in [t["name"] for t in other.ok("GET", "/types")["volume_types"]]
    assert name not in [t["name"] for t in admin.ok("GET", "/types")["volume_types"]]
    assert name in [t["name"] for t in admin.ok("GET", "/types?is_public=false")[
        "volume_types"]]
    vol = demo.create_volume(1, volume_type=name)
    demo.ok("DELETE", f"/volumes/{vol['id']}")
    admin.ok("POST", f"/types/{tid}/action",
             {"removeProjectAccess": {"project": demo.project_id}})
    assert demo.call("GET", f"/types/{tid}").status_code == 404
    admin.ok("DELETE", f"/types/{tid}")


def test_type_selects_backend(cloud, admin, demo, agent):
    fakes.add_backend(cloud.rt, "node2", "fast")
    name = _name("fast")
    tid = admin.ok("POST", "/types", {"volume_type": {
        "name": name, "extra_specs": {"volume_backend_name": "fast"}}},
        status=200)["volume_type"]["id"]
    vol = demo.create_volume(1, volume_type=name)
    assert agent.last("create_volume").backend == "node2@fast"
    assert admin.show(vol["id"])["os-vol-host-attr:host"] == "node2@fast#fast"
    nowhere = _name("nowhere")
    admin.ok("POST", "/types", {"volume_type": {
        "name": nowhere, "extra_specs": {"volume_backend_name": "missing"}}}, status=200)
    stuck = demo.create_volume(1, volume_type=nowhere)
    assert stuck["status"] == "error"  # no backend: kept in error, as Cinder does
    pools = admin.ok("GET", "/scheduler-stats/get_pools?detail=true")["pools"]
    fast = next(p for p in pools if p["name"] == "node2@fast#fast")
    assert fast["capabilities"]["allocated_capacity_gb"] == 1
    assert admin.ok("GET", f"/scheduler-stats/get_pools?volume_type={name}")["pools"] == \
        [{"name": "node2@fast#fast"}]
    assert demo.call("GET", "/scheduler-stats/get_pools").status_code == 403
    for volume_id in (vol["id"], stuck["id"]):
        demo.ok("DELETE", f"/volumes/{volume_id}")
    admin.ok("DELETE", f"/types/{tid}")
    admin.ok("DELETE", f"/types/{nowhere}")


def test_quotas_and_limits(admin, demo, other):
    defaults = demo.ok("GET", f"/os-quota-sets/{demo.project_id}/defaults")["quota_set"]
    assert (defaults["volumes"], defaults["gigabytes"], defaults["groups"]) == (10, 1000, 10)
    assert defaults["volumes___DEFAULT__"] == -1
    assert demo.call("GET", f"/os-quota-sets/{other.project_id}").status_code == 403
    assert demo.call("PUT", f"/os-quota-sets/{other.project_id}",
                     {"quota_set": {"volumes": 1}}).status_code == 403
    limits = {"volumes": 2, "gigabytes": 6, "snapshots": 1, "backups": 1}
    assert admin.ok("PUT", f"/os-quota-sets/{other.project_id}", {"quota_set": limits})[
        "quota_set"]["volumes"] == 2
    assert admin.call("PUT", f"/os-quota-sets/{other.project_id}",
                      {"quota_set": {"bogus": 1}}).status_code == 400
    assert admin.call("PUT", f"/os-quota-sets/{other.project_id}",
                      {"quota_set": {"volumes": -2}}).status_code == 400

    too_big = other.call("POST", "/volumes", {"volume": {"size": 7}})
    assert too_big.status_code == 413
    assert too_big.get_json()["overLimit"]["message"] == (
        "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 7G, quota is "
        "6G and 0G has been consumed.")
    first = other.create_volume(2)
    second = other.create_volume(2)
    response = other.call("POST", "/volumes", {"volume": {"size": 1}})
    assert response.status_code == 413
    assert response.get_json()["overLimit"]["message"] == \
        "Maximum number of volumes allowed (2) exceeded for quota 'volumes'."
    snap = other.ok("POST", "/snapshots", {"snapshot": {"volume_id": first["id"]}})
    response = other.call("POST", "/snapshots", {"snapshot": {"volume_id": second["id"]}})
    assert response.status_code == 413  # snapshots: 1
    usage = other.ok("GET", f"/os-quota-sets/{other.project_id}?usage=true")["quota_set"]
    assert usage["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0}
    assert usage["gigabytes"]["in_use"] == 6
    absolute = other.ok("GET", "/limits")["limits"]["absolute"]
    assert (absolute["maxTotalVolumes"], absolute["totalVolumesUsed"],
            absolute["totalGigabytesUsed"]) == (2, 2, 6)
    response = admin.call("PUT", f"/os-quota-sets/{other.project_id}",
                          {"quota_set": {"volumes": 1}})
    assert response.status_code == 400  # below what is in use
    assert admin.ok("PUT", f"/os-quota-sets/{other.project_id}", {
        "quota_set": {"per_volume_gigabytes": 1, "volumes": 5}})["quota_set"][
        "per_volume_gigabytes"] == 1
    response = other.call("POST", "/volumes", {"volume": {"size": 2}})
    assert response.status_code == 413 and "larger than maximum allowed limit 1G" in \
        response.get_data(True)
    other.ok("DELETE", f"/snapshots/{snap['snapshot']['id']}")
    for volume in (first, second):
        other.ok("DELETE", f"/volumes/{volume['id']}")
    admin.ok("DELETE", f"/os-quota-sets/{other.project_id}", status=200)
    assert other.ok("GET", f"/os-quota-sets/{other.project_id}")["quota_set"]["volumes"] == 10


def test_services_zones_extensions(cloud, admin, demo):
    services = admin.ok("GET", "/os-services")["services"]
    node1 = next(s for s in services if s["host"] == "node1@file")
    assert (node1["binary"], node1["state"], node1["status"], node1["zone"]) == \
        ("cinder-volume", "up", "enabled", "nova")
    assert demo.call("GET", "/os-services").status_code == 403
    assert admin.ok("GET", "/os-services?host=node1")["services"][0]["host"] == "node1@file"
    zones = demo.ok("GET", "/os-availability-zone")["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}}]
    assert "os-volume-actions" in [e["alias"] for e in demo.ok("GET", "/extensions")[
        "extensions"]]

    fakes.add_backend(cloud.rt, "node3", "slow", total_capacity_gb=1000.0,
                      free_capacity_gb=1000.0)
    disabled = admin.ok("PUT", "/os-services/disable-log-reason", {
        "host": "node3@slow", "binary": "cinder-volume", "disabled_reason": "maintenance"})
    assert (disabled["status"], disabled["disabled_reason"]) == ("disabled", "maintenance")
    vol = demo.create_volume(50)
    assert admin.show(vol["id"])["os-vol-host-attr:host"] != "node3@slow#slow"
    admin.ok("PUT", "/os-services/enable", {"host": "node3@slow", "binary": "cinder-volume"})
    assert admin.call("PUT", "/os-services/enable", {"host": "nohost"}).status_code == 404
    demo.ok("DELETE", f"/volumes/{vol['id']}")


@pytest.mark.parametrize("size", [0, -1, "x", 2 ** 31, 1.5, True])
def test_bad_sizes(demo, size):
    response = demo.call("POST", "/volumes", {"volume": {"size": size}})
    assert response.status_code == 400, response.get_json()
    assert "badRequest" in response.get_json()


def test_bad_input_never_500(demo, other):
    vol = demo.create_volume(1)
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}})["snapshot"]
    cases = [
        ("POST", "/volumes", {"volume": {"size": 1, "volume_type": "no-such-type"}}, 404),
        ("POST", "/volumes", {"volume": {"size": 10 ** 6}}, 400),
        ("POST", "/volumes", {"volume": {"size": 1, "availability_zone": "mars"}}, 400),
        ("POST", "/volumes", {"volume": {"size": 1, "snapshot_id": "not-a-uuid"}}, 400),
        ("POST", "/volumes", {"volume": {"size": 1, "imageRef": str(uuid.uuid4())}}, 400),
        ("POST", "/volumes", {"volume": {}}, 400),
        ("POST", "/volumes", {"nope": {}}, 400),
        ("POST", "/volumes", [], 400),
        ("POST", "/volumes", {"volume": {"size": 1, "metadata": {"k": 1}}}, 400),
        ("PUT", f"/volumes/{vol['id']}", {"volume": {"name": "x" * 256}}, 400),
        ("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": 1}}, 400),
        ("POST", f"/volumes/{vol['id']}/action", {"os-extend": {"new_size": -5}}, 400),
        ("POST", f"/volumes/{vol['id']}/action", {"os-extend": {}}, 400),
        ("POST", f"/volumes/{vol['id']}/action", {"os-reset_status": {"status": "x"}}, 403),
        ("POST", f"/volumes/{vol['id']}/action", {"a": {}, "b": {}}, 400),
        ("POST", "/snapshots", {"snapshot": {"volume_id": str(uuid.uuid4())}}, 404),
        ("POST", "/backups", {"backup": {"volume_id": str(uuid.uuid4())}}, 404),
        ("GET", "/volumes?limit=abc", None, 400),
        ("GET", "/volumes?metadata=[1]", None, 400),
    ]
    for method, path, body, status in cases:
        response = demo.call(method, path, body)
        assert response.status_code == status, (method, path, body, response.get_json())
        assert response.get_json() and list(response.get_json())[0] in (
            "badRequest", "itemNotFound", "forbidden"), response.get_json()
    # Another project's snapshot as a source, and its volume: not found.
    for body in ({"snapshot_id": snap["id"]}, {"source_volid": vol["id"]}):
        response = other.call("POST", "/volumes", {"volume": {"size": 1, **body}})
        assert response.status_code == 404, response.get_json()
    assert other.call("GET", f"/volumes/{vol['id']}").status_code == 404
    assert other.call("DELETE", f"/volumes/{vol['id']}").status_code == 404
    assert other.action(vol["id"], "os-extend", {"new_size": 5}).status_code == 404
    assert vol["id"] not in [v["id"] for v in other.ok("GET", "/volumes?all_tenants=1")[
        "volumes"]]
    demo.ok("DELETE", f"/snapshots/{snap['id']}")
    demo.ok("DELETE", f"/volumes/{vol['id']}")


def test_admin_sees_all_projects(admin, demo):
    vol = demo.create_volume(1)
    assert admin.show(vol["id"])["os-vol-tenant-attr:tenant_id"] == demo.project_id
    assert vol["id"] not in [v["id"] for v in admin.ok("GET", "/volumes")["volumes"]]
    everyone = admin.ok("GET", "/volumes?all_tenants=1")["volumes"]
    assert vol["id"] in [v["id"] for v in everyone]
    scoped = admin.ok("GET", f"/volumes?all_tenants=1&project_id={demo.project_id}")
    assert vol["id"] in [v["id"] for v in scoped["volumes"]]
    demo.ok("DELETE", f"/volumes/{vol['id']}")
