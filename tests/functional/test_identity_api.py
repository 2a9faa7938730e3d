"""Identity v3 behaviour through the HTTP API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime

from controller.identity.fernet import KeyRepository
from tests.functional.support import unique


def _create(cloud, token, kind, body, status=201):
    response = cloud.call("POST", f"/{kind}s", token, {kind: body})
    assert response.status_code == status, response.get_json()
    return response.get_json()[kind] if status == 201 else response.get_json()


def _user_with_role(cloud, admin, project_id, role="member", password="pw-1"):
    user = _create(cloud, admin, "user", {"name": unique("u"), "password": password})
    role_id = _role_id(cloud, admin, role)
    assert cloud.call("PUT", f"/projects/{project_id}/users/{user['id']}/roles/{role_id}",
                      admin).status_code == 204
    return user


def _role_id(cloud, token, name):
    roles = cloud.call("GET", f"/roles?name={name}", token).get_json()["roles"]
    return roles[0]["id"]


def test_token_lifecycle_and_catalog(cloud):
    token = cloud.admin()
    response = cloud.call("GET", "/auth/tokens", token, headers={"X-Subject-Token": token})
    assert response.status_code == 200
    body = response.get_json()["token"]
    assert body["project"]["name"] == "admin"
    assert [r["name"] for r in body["roles"]] == ["admin"]
    assert any(s["type"] == "identity" for s in body["catalog"])
    assert response.headers["X-OpenStack-Request-ID"].startswith("req-")
    assert cloud.call("HEAD", "/auth/tokens", token,
                      headers={"X-Subject-Token": token}).status_code == 200
    nocatalog = cloud.call("GET", "/auth/tokens?nocatalog", token,
                           headers={"X-Subject-Token": token}).get_json()["token"]
    assert "catalog" not in nocatalog

    victim = cloud.admin()
    assert cloud.call("DELETE", "/auth/tokens", token,
                      headers={"X-Subject-Token": victim}).status_code == 204
    assert cloud.call("GET", "/auth/tokens", token,
                      headers={"X-Subject-Token": victim}).status_code == 404
    revoked = cloud.call("GET", "/projects", victim)
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["title"] == "Unauthorized"


def test_unscoped_rescope_and_domain_scope(cloud):
    unscoped = cloud.token("admin", "admin-pw")
    info = cloud.call("GET", "/auth/tokens", unscoped,
                      headers={"X-Subject-Token": unscoped}).get_json()["token"]
    assert "project" not in info and "catalog" not in info
    assert cloud.call("GET", "/auth/catalog", unscoped).status_code == 403
    projects = cloud.call("GET", "/auth/projects", unscoped).get_json()["projects"]
    assert "admin" in [p["name"] for p in projects]

    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                        "scope": {"project": {"id": cloud.ids["admin_project_id"]}}}}
    response = cloud.client.post("/identity/v3/auth/tokens", json=rescope)
    assert response.status_code == 201
    scoped = response.get_json()["token"]
    assert scoped["project"]["id"] == cloud.ids["admin_project_id"]
    assert scoped["audit_ids"][1] == info["audit_ids"][0]

    admin = cloud.admin()
    role_id = _role_id(cloud, admin, "admin")
    user = _create(cloud, admin, "user", {"name": unique("dom"), "password": "pw"})
    assert cloud.call("PUT", f"/domains/default/users/{user['id']}/roles/{role_id}",
                      admin).status_code == 204
    domain_token = cloud.token(user["name"], "pw", domain="default")
    body = cloud.call("GET", "/auth/tokens", admin,
                      headers={"X-Subject-Token": domain_token}).get_json()["token"]
    assert body["domain"]["id"] == "default"


def test_bad_credentials_are_401_without_detail(cloud):
    for user, password in (("admin", "wrong"), ("nobody", "x")):
        response = cloud.client.post("/identity/v3/auth/tokens",
                                     json={"auth": {"identity": {
                                         "methods": ["password"], "password": {"user": {
                                             "name": user, "domain": {"id": "default"},
                                             "password": password}}}}})
        assert response.status_code == 401
        assert response.get_json()["error"]["message"] == (
            "The request you have made requires authentication.")


def test_member_isolation(cloud):
    demo = cloud.demo()
    for path in ("/users", "/projects", f"/projects/{cloud.ids['admin_project_id']}",
                 "/role_assignments", "/groups"):
        response = cloud.call("GET", path, demo)
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == 403
    assert cloud.call("POST", "/projects", demo,
                      {"project": {"name": unique("p")}}).status_code == 403
    own = cloud.call("GET", f"/projects/{cloud.ids['demo_project_id']}", demo)
    assert own.status_code == 200
    me = cloud.call("GET", f"/users/{cloud.ids['demo_user_id']}", demo)
    assert me.status_code == 200 and "password" not in me.get_json()["user"]
    other = cloud.call("GET", f"/users/{cloud.ids['admin_user_id']}", demo)
    assert other.status_code == 403
    # A member may look at its own tokens but not at an admin's.
    admin = cloud.admin()
    assert cloud.call("GET", "/auth/tokens", demo,
                      headers={"X-Subject-Token": admin}).status_code == 403


def test_revocation_on_disable_password_change_and_role_removal(cloud):
    admin = cloud.admin()
    project = _create(cloud, admin, "project", {"name": unique("p")})

    user = _user_with_role(cloud, admin, project["id"])
    token = cloud.token(user["name"], "pw-1", project["name"])
    assert cloud.call("PATCH", f"/users/{user['id']}", admin,
                      {"user": {"enabled": False}}).status_code == 200
    assert not cloud.valid(token)

    user = _user_with_role(cloud, admin, project["id"])
    token = cloud.token(user["name"], "pw-1", project["name"])
    assert cloud.call("PATCH", f"/users/{user['id']}", admin,
                      {"user": {"password": "pw-2"}}).status_code == 200
    assert not cloud.valid(token)
    assert cloud.valid(cloud.token(user["name"], "pw-2", project["name"]))

    own = cloud.token(user["name"], "pw-2", project["name"])
    response = cloud.call("POST", f"/users/{user['id']}/password", own,
                          {"user": {"original_password": "wrong", "password": "pw-3"}})
    assert response.status_code == 401
    response = cloud.call("POST", f"/users/{user['id']}/password", own,
                          {"user": {"original_password": "pw-2", "password": "pw-3"}})
    assert response.status_code == 204
    assert not cloud.valid(own)

    user = _user_with_role(cloud, admin, project["id"])
    token = cloud.token(user["name"], "pw-1", project["name"])
    role_id = _role_id(cloud, admin, "member")
    assert cloud.call("DELETE", f"/projects/{project['id']}/users/{user['id']}/roles/{role_id}",
                      admin).status_code == 204
    assert not cloud.valid(token)
    assert cloud.client.post("/identity/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "id": user["id"], "password": "pw-1"}}}, "scope": {
        "project": {"id": project["id"]}}}}).status_code == 401


def test_groups_and_effective_assignments(cloud):
    admin = cloud.admin()
    project = _create(cloud, admin, "project", {"name": unique("p")})
    user = _create(cloud, admin, "user", {"name": unique("u"), "password": "pw"})
    group = _create(cloud, admin, "group", {"name": unique("g")})
    assert cloud.call("PUT", f"/groups/{group['id']}/users/{user['id']}",
                      admin).status_code == 204
    assert cloud.call("HEAD", f"/groups/{group['id']}/users/{user['id']}",
                      admin).status_code == 204
    reader = _role_id(cloud, admin, "reader")
    assert cloud.call("PUT", f"/projects/{project['id']}/groups/{group['id']}/roles/{reader}",
                      admin).status_code == 204
    member = _role_id(cloud, admin, "member")
    assert cloud.call(
        "PUT", f"/OS-INHERIT/domains/default/users/{user['id']}/roles/{member}"
        "/inherited_to_projects", admin).status_code == 204

    token = cloud.token(user["name"], "pw", project["name"])
    roles = cloud.call("GET", "/auth/tokens", admin, headers={"X-Subject-Token": token}
                       ).get_json()["token"]["roles"]
    assert sorted(r["name"] for r in roles) == ["member", "reader"]

    listing = cloud.call("GET", f"/role_assignments?effective&include_names&user.id={user['id']}"
                         f"&scope.project.id={project['id']}", admin).get_json()
    names = sorted(a["role"]["name"] for a in listing["role_assignments"])
    assert names == ["member", "reader"]
    via_group = [a for a in listing["role_assignments"] if "membership" in a["links"]]
    assert via_group and via_group[0]["user"]["name"] == user["name"]
    raw = cloud.call("GET", f"/role_assignments?group.id={group['id']}", admin).get_json()
    assert raw["role_assignments"][0]["group"]["id"] == group["id"]

    assert cloud.call("DELETE", f"/groups/{group['id']}/users/{user['id']}",
                      admin).status_code == 204
    assert not cloud.valid(token)


def test_application_credentials(cloud):
    admin = cloud.admin()
    project = _create(cloud, admin, "project", {"name": unique("p")})
    user = _user_with_role(cloud, admin, project["id"])
    token = cloud.token(user["name"], "pw-1", project["name"])
    path = f"/users/{user['id']}/application_credentials"
    response = cloud.call("POST", path, token, {"application_credential": {"name": "ci"}})
    assert response.status_code == 201
    cred = response.get_json()["application_credential"]
    assert cred["secret"] and [r["name"] for r in cred["roles"]] == ["member"]
    assert cloud.call("POST", path, token, {"application_credential": {"name": "ci"}}
                      ).status_code == 409
    listed = cloud.call("GET", path, token).get_json()["application_credentials"]
    assert "secret" not in listed[0]

    by_id = {"auth": {"identity": {"methods": ["application_credential"],
                                   "application_credential": {"id": cred["id"],
                                                              "secret": cred["secret"]}}}}
    response = cloud.client.post("/identity/v3/auth/tokens", json=by_id)
    assert response.status_code == 201
    body = response.get_json()["token"]
    assert body["project"]["id"] == project["id"]
    assert body["application_credential"]["id"] == cred["id"]
    app_token = response.headers["X-Subject-Token"]
    assert cloud.call("POST", path, app_token, {"application_credential": {"name": "x"}}
                      ).status_code == 403

    by_name = {"auth": {"identity": {"methods": ["application_credential"],
                                     "application_credential": {
                                         "name": "ci", "secret": cred["secret"],
                                         "user": {"id": user["id"]}}}}}
    assert cloud.client.post("/identity/v3/auth/tokens", json=by_name).status_code == 201
    by_id["auth"]["identity"]["application_credential"]["secret"] = "wrong"
    assert cloud.client.post("/identity/v3/auth/tokens", json=by_id).status_code == 401

    past = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).isoformat()
    assert cloud.call("POST", path, token, {"application_credential": {
        "name": "old", "expires_at": past}}).status_code == 400
    assert cloud.call("DELETE", f"{path}/{cred['id']}", token).status_code == 204
    assert not cloud.valid(app_token)


def test_bad_input_gets_keystone_4xx(cloud):
    admin = cloud.admin()
    cases = [
        ("POST", "/projects", "{not json", 400),
        ("POST", "/projects", {"project": {}}, 400),
        ("POST", "/projects", {"project": {"name": 5}}, 400),
        ("POST", "/projects", {"project": {"name": "x" * 65}}, 400),
        ("POST", "/users", {"user": {"name": ""}}, 400),
        ("PATCH", "/projects/does-not-exist", {"project": {"name": "y"}}, 404),
        ("GET", "/users/does-not-exist", None, 404),
        ("DELETE", "/roles/does-not-exist", None, 404),
        ("POST", "/endpoints", {"endpoint": {"service_id": "x", "interface": "bogus",
                                             "url": "http://x"}}, 400),
        ("PUT", "/projects/nope/users/nope/roles/nope", None, 404),
    ]
    for method, path, body, status in cases:
        if isinstance(body, str):
            response = cloud.client.open(f"/identity/v3{path}", method=method, data=body,
                                         headers={"X-Auth-Token": admin,
                                                  "Content-Type": "application/json"})
        else:
            response = cloud.call(method, path, admin, body)
        assert response.status_code == status, (method, path, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == status and error["message"]

    name = unique("dup")
    _create(cloud, admin, "project", {"name": name})
    conflict = _create(cloud, admin, "project", {"name": name}, status=409)
    assert conflict["error"]["code"] == 409


def test_domain_delete_requires_disable_and_cascades(cloud):
    admin = cloud.admin()
    domain = _create(cloud, admin, "domain", {"name": unique("d")})
    project = _create(cloud, admin, "project", {"name": "inside", "domain_id": domain["id"]})
    assert cloud.call("DELETE", f"/domains/{domain['id']}", admin).status_code == 403
    assert cloud.call("PATCH", f"/domains/{domain['id']}", admin,
                      {"domain": {"enabled": False}}).status_code == 200
    assert cloud.call("DELETE", f"/domains/{domain['id']}", admin).status_code == 204
    assert cloud.call("GET", f"/projects/{project['id']}", admin).status_code == 404


def test_catalog_crud_and_fernet_rotation(cloud):
    admin = cloud.admin()
    service = _create(cloud, admin, "service", {"type": "test-svc", "name": "t"})
    region = _create(cloud, admin, "region", {"id": unique("r")})
    endpoint = _create(cloud, admin, "endpoint", {"service_id": service["id"],
                                                  "interface": "public",
                                                  "url": "http://example.test/x",
                                                  "region_id": region["id"]})
    catalog = cloud.call("GET", "/auth/catalog", admin).get_json()["catalog"]
    assert any(entry["type"] == "test-svc" for entry in catalog)
    assert cloud.call("DELETE", f"/endpoints/{endpoint['id']}", admin).status_code == 204
    assert cloud.call("DELETE", f"/services/{service['id']}", admin).status_code == 204

    keys = KeyRepository(cloud.rt.conf.fernet_tokens.key_repository)
    before = cloud.admin()
    keys.rotate()
    assert cloud.valid(before)
    assert cloud.valid(cloud.admin())


def test_bootstrap_is_idempotent(cloud):
    from controller.identity import bootstrap

    admin = cloud.admin()
    endpoints_before = cloud.call("GET", "/endpoints", admin).get_json()["endpoints"]
    again = bootstrap.run(cloud.rt, bootstrap.Options(
        admin_password="admin-pw", demo_password="demo-pw",
        public_url="http://127.0.0.1:8770"))
    assert again == cloud.ids
    endpoints_after = cloud.call("GET", "/endpoints", admin).get_json()["endpoints"]
    assert sorted(e["id"] for e in endpoints_after) == sorted(e["id"] for e in endpoints_before)
    assert cloud.valid(admin), "re-running bootstrap must not revoke the admin's tokens"


def test_request_id_is_on_the_response_and_in_the_log(cloud, caplog):
    import logging

    from common.log import RequestIdFilter

    handler_filter = RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.INFO, logger="stratus.api.access"):
        response = cloud.call("GET", "/auth/catalog", cloud.admin())
    request_id = response.headers["X-OpenStack-Request-ID"]
    assert any(getattr(r, "request_id", None) == request_id and "/auth/catalog" in r.getMessage()
               for r in caplog.records)


def test_catalog_urls_carry_the_token_project(cloud):
    admin = cloud.admin()
    service = _create(cloud, admin, "service", {"type": "per-project", "name": "pp"})
    _create(cloud, admin, "endpoint", {"service_id": service["id"], "interface": "public",
                                       "url": "http://store.test/v1/AUTH_%(project_id)s"})
    demo = cloud.demo()
    urls = [e["url"] for s in cloud.call("GET", "/auth/catalog", demo).get_json()["catalog"]
            if s["type"] == "per-project" for e in s["endpoints"]]
    assert urls == [f"http://store.test/v1/AUTH_{cloud.ids['demo_project_id']}"]
    token = cloud.call("GET", "/auth/tokens", admin, headers={"X-Subject-Token": demo}
                       ).get_json()["token"]
    assert f"AUTH_{cloud.ids['demo_project_id']}" in str(token["catalog"])
    assert cloud.call("DELETE", f"/services/{service['id']}", admin).status_code == 204
