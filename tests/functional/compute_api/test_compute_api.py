"""The compute v2.1 API in-process, on SQLite and PostgreSQL (the `cloud` fixture)."""

from __future__ import annotations

import pytest

from controller.compute import keypairs

LATEST = {"OpenStack-API-Version": "compute 2.60"}


def call(cloud, method, path, token, body=None, version=None, headers=None):
    all_headers = {"X-Auth-Token": token, **(headers or {})}
    if version:
        all_headers["OpenStack-API-Version"] = f"compute {version}"
    return cloud.client.open(f"/compute/v2.1{path}", method=method, json=body,
                             headers=all_headers)


@pytest.fixture(scope="module")
def tokens(cloud):
    return {"admin": cloud.admin(), "demo": cloud.demo()}


def test_version_discovery(cloud):
    root = cloud.client.get("/compute")
    assert root.status_code == 300
    versions = {v["id"]: v for v in root.get_json()["versions"]}
    assert versions["v2.0"]["status"] == "SUPPORTED"
    assert versions["v2.1"]["status"] == "CURRENT"
    assert (versions["v2.1"]["version"], versions["v2.1"]["min_version"]) == ("2.60", "2.1")
    single = cloud.client.get("/compute/v2.1").get_json()["version"]
    assert single["id"] == "v2.1" and single["version"] == "2.60"


def test_microversion_negotiation(cloud, tokens):
    response = call(cloud, "GET", "/flavors", tokens["demo"])
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    response = call(cloud, "GET", "/flavors", tokens["demo"], version="latest")
    assert response.headers["OpenStack-API-Version"] == "compute 2.60"
    response = call(cloud, "GET", "/flavors", tokens["demo"],
                    headers={"X-OpenStack-Nova-API-Version": "2.10"})
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.10"
    response = call(cloud, "GET", "/flavors", tokens["demo"], version="2.61")
    assert response.status_code == 406
    assert response.get_json()["notAcceptable"]["code"] == 406


def test_faults_are_nova_format(cloud, tokens):
    response = call(cloud, "GET", "/flavors/nope", tokens["demo"])
    assert response.status_code == 404
    assert "itemNotFound" in response.get_json()
    assert call(cloud, "GET", "/flavors", "bad-token").status_code == 401
    bad = cloud.client.post("/compute/v2.1/flavors", data=b"{not json",
                            headers={"X-Auth-Token": tokens["admin"],
                                     "Content-Type": "application/json"})
    assert bad.status_code == 400 and "badRequest" in bad.get_json()
    for body in ({}, {"flavor": {"name": "x"}}, {"flavor": {"name": "x", "ram": -1,
                                                            "vcpus": 1, "disk": 0}},
                 {"flavor": {"name": " x", "ram": 1, "vcpus": 1, "disk": 0}}, []):
        assert call(cloud, "POST", "/flavors", tokens["admin"], body).status_code == 400
    assert call(cloud, "GET", "/flavors?minRam=abc", tokens["demo"]).status_code == 400


def test_flavor_lifecycle(cloud, tokens):
    admin, demo = tokens["admin"], tokens["demo"]
    body = {"flavor": {"name": "t.small", "ram": 512, "vcpus": 1, "disk": 5, "id": "t1",
                       "swap": 0, "OS-FLV-EXT-DATA:ephemeral": 1, "description": "small"}}
    assert call(cloud, "POST", "/flavors", admin, body).status_code == 400  # description<2.55
    assert call(cloud, "POST", "/flavors", demo, body, "2.55").status_code == 403
    created = call(cloud, "POST", "/flavors", admin, body, "2.55")
    assert created.status_code == 200, created.get_json()
    flavor = created.get_json()["flavor"]
    assert (flavor["id"], flavor["ram"], flavor["swap"], flavor["description"]) == \
        ("t1", 512, "", "small")
    assert call(cloud, "POST", "/flavors", admin, body, "2.55").status_code == 409
    shown = call(cloud, "GET", "/flavors/t1", demo).get_json()["flavor"]
    assert "description" not in shown and shown["OS-FLV-EXT-DATA:ephemeral"] == 1
    updated = call(cloud, "PUT", "/flavors/t1", admin,
                   {"flavor": {"description": "new"}}, "2.55")
    assert updated.get_json()["flavor"]["description"] == "new"
    assert call(cloud, "PUT", "/flavors/t1", admin,
                {"flavor": {"description": "new"}}).status_code == 404

    big = {"flavor": {"name": "t.big", "ram": 4096, "vcpus": 4, "disk": 40}}
    big_id = call(cloud, "POST", "/flavors", admin, big).get_json()["flavor"]["id"]
    assert len(big_id) == 36
    names = [f["name"] for f in call(cloud, "GET", "/flavors?minRam=1024",
                                     demo).get_json()["flavors"]]
    assert "t.big" in names and "t.small" not in names
    names = [f["name"] for f in call(cloud, "GET", "/flavors/detail?minDisk=10",
                                     demo).get_json()["flavors"]]
    assert names == ["t.big"]
    page = call(cloud, "GET", "/flavors?limit=1", demo).get_json()
    assert len(page["flavors"]) == 1 and page["flavors_links"][0]["rel"] == "next"

    specs = call(cloud, "POST", "/flavors/t1/os-extra_specs", admin,
                 {"extra_specs": {"hw:cpu_policy": "dedicated", "n": 2}})
    assert specs.get_json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "n": "2"}}
    assert call(cloud, "GET", "/flavors/t1/os-extra_specs/hw:cpu_policy",
                demo).get_json() == {"hw:cpu_policy": "dedicated"}
    assert call(cloud, "PUT", "/flavors/t1/os-extra_specs/n", admin,
                {"n": "3"}).get_json() == {"n": "3"}
    assert call(cloud, "PUT", "/flavors/t1/os-extra_specs/n", admin,
                {"m": "3"}).status_code == 400
    assert call(cloud, "POST", "/flavors/t1/os-extra_specs", demo,
                {"extra_specs": {"a": "b"}}).status_code == 403
    assert call(cloud, "DELETE", "/flavors/t1/os-extra_specs/n", admin).status_code == 202
    assert call(cloud, "GET", "/flavors/t1/os-extra_specs/n", admin).status_code == 404

    assert call(cloud, "DELETE", "/flavors/t1", demo).status_code == 403
    for flavor_id in ("t1", big_id):
        assert call(cloud, "DELETE", f"/flavors/{flavor_id}", admin).status_code == 202
    assert call(cloud, "GET", "/flavors/t1", admin).status_code == 404


def test_private_flavor_access(cloud, tokens):
    admin, demo = tokens["admin"], tokens["demo"]
    body = {"flavor": {"name": "t.private", "ram": 64, "vcpus": 1, "disk": 1, "id": "p1",
                       "os-flavor-access:is_public": False}}
    assert call(cloud, "POST", "/flavors", admin, body).status_code == 200
    assert call(cloud, "GET", "/flavors/p1", demo).status_code == 404
    assert call(cloud, "GET", "/flavors/p1/os-flavor-access", admin).get_json() == \
        {"flavor_access": []}
    demo_project = _project_id(cloud, demo)
    added = call(cloud, "POST", "/flavors/p1/action", admin,
                 {"addTenantAccess": {"tenant": demo_project}})
    assert added.get_json() == {"flavor_access": [{"flavor_id": "p1",
                                                   "tenant_id": demo_project}]}
    assert call(cloud, "POST", "/flavors/p1/action", admin,
                {"addTenantAccess": {"tenant": demo_project}}).status_code == 409
    assert call(cloud, "GET", "/flavors/p1", demo).status_code == 200
    assert "p1" in [f["id"] for f in call(cloud, "GET", "/flavors", demo).get_json()["flavors"]]
    admin_all = call(cloud, "GET", "/flavors?is_public=none", admin).get_json()["flavors"]
    assert "p1" in [f["id"] for f in admin_all]
    private_only = call(cloud, "GET", "/flavors?is_public=false", admin).get_json()["flavors"]
    assert [f["id"] for f in private_only] == ["p1"]
    assert call(cloud, "POST", "/flavors/p1/action", demo,
                {"removeTenantAccess": {"tenant": demo_project}}).status_code == 403
    assert call(cloud, "POST", "/flavors/p1/action", admin,
                {"removeTenantAccess": {"tenant": demo_project}}).status_code == 200
    assert call(cloud, "GET", "/flavors/p1", demo).status_code == 404
    assert call(cloud, "POST", "/flavors/p1/action", admin,
                {"bogus": {}}).status_code == 400
    assert call(cloud, "DELETE", "/flavors/p1", admin).status_code == 202


def _project_id(cloud, token):
    response = cloud.call("GET", "/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.get_json()["token"]["project"]["id"]


def test_keypairs(cloud, tokens):
    demo, admin = tokens["demo"], tokens["admin"]
    generated = call(cloud, "POST", "/os-keypairs", demo, {"keypair": {"name": "gen"}})
    assert generated.status_code == 200
    key = generated.get_json()["keypair"]
    assert "private_key" in key and "type" not in key
    assert key["fingerprint"] == keypairs.ssh_fingerprint(key["public_key"])

    _, public = keypairs.generate()
    imported = call(cloud, "POST", "/os-keypairs", demo,
                    {"keypair": {"name": "imp", "public_key": public}}, "2.2")
    assert imported.status_code == 201
    assert imported.get_json()["keypair"]["type"] == "ssh"
    assert "private_key" not in imported.get_json()["keypair"]
    assert call(cloud, "POST", "/os-keypairs", demo,
                {"keypair": {"name": "imp", "public_key": public}}).status_code == 409
    for body in ({"keypair": {"name": "bad", "public_key": "garbage"}},
                 {"keypair": {"name": "a/b"}}, {"keypair": {"name": ""}}, {"keypair": {}},
                 {"keypair": {"name": "x", "type": "ssh"}}, {"nope": 1}):
        response = call(cloud, "POST", "/os-keypairs", demo, body)
        assert response.status_code == 400, body
        assert "badRequest" in response.get_json()

    listed = call(cloud, "GET", "/os-keypairs", demo).get_json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["gen", "imp"]
    page = call(cloud, "GET", "/os-keypairs?limit=1", demo, version="2.35").get_json()
    assert len(page["keypairs"]) == 1 and page["keypairs_links"]
    assert call(cloud, "GET", "/os-keypairs?marker=zzz", demo,
                version="2.35").status_code == 400
    shown = call(cloud, "GET", "/os-keypairs/imp", demo, version="2.2").get_json()["keypair"]
    assert shown["type"] == "ssh" and shown["deleted"] is False and "created_at" in shown
    # Key pairs are per user: admin does not see demo's, unless it asks for them (2.10).
    assert call(cloud, "GET", "/os-keypairs/imp", admin).status_code == 404
    demo_user = cloud.call("GET", "/auth/tokens", demo, headers={
        "X-Subject-Token": demo}).get_json()["token"]["user"]["id"]
    assert call(cloud, "GET", f"/os-keypairs/imp?user_id={demo_user}", admin,
                version="2.10").status_code == 200
    assert call(cloud, "GET", "/os-keypairs?user_id=someone", demo,
                version="2.10").status_code == 403
    assert call(cloud, "DELETE", "/os-keypairs/gen", demo).status_code == 202
    assert call(cloud, "DELETE", "/os-keypairs/imp", demo, version="2.2").status_code == 204
    assert call(cloud, "DELETE", "/os-keypairs/imp", demo).status_code == 404


def test_zones_and_limits(cloud, tokens):
    zones = call(cloud, "GET", "/os-availability-zone", tokens["demo"]).get_json()
    assert zones == {"availabilityZoneInfo": [{"zoneName": "nova",
                                               "zoneState": {"available": True},
                                               "hosts": None}]}
    assert call(cloud, "GET", "/os-availability-zone/detail",
                tokens["demo"]).status_code == 403
    assert call(cloud, "GET", "/os-availability-zone/detail",
                tokens["admin"]).status_code == 200
    absolute = call(cloud, "GET", "/limits", tokens["demo"]).get_json()["limits"]["absolute"]
    assert (absolute["maxTotalInstances"], absolute["maxTotalCores"],
            absolute["maxTotalRAMSize"], absolute["maxTotalKeypairs"]) == (10, 20, 51200, 100)
    assert absolute["totalInstancesUsed"] == 0 and "maxSecurityGroups" in absolute
    latest = call(cloud, "GET", "/limits", tokens["demo"], version="2.60").get_json()
    assert "maxSecurityGroups" not in latest["limits"]["absolute"]
    assert "maxPersonality" not in latest["limits"]["absolute"]
