"""Identity acceptance through the unmodified openstack CLI and openstacksdk."""

from __future__ import annotations

import openstack
import requests


def test_token_catalog_and_endpoints(admin_cli):
    token = admin_cli.json("token", "issue")
    assert token["id"] and token["project_id"]
    catalog = admin_cli.json("catalog", "list")
    assert "identity" in [entry["Type"] for entry in catalog]
    endpoints = admin_cli.json("endpoint", "list")
    assert {e["Interface"] for e in endpoints} >= {"public", "internal", "admin"}


def test_project_user_group_role_lifecycle(admin_cli, name):
    project = admin_cli.json("project", "create", name)
    assert admin_cli.json("project", "show", name)["id"] == project["id"]
    assert name in [p["Name"] for p in admin_cli.json("project", "list")]

    user = admin_cli.json("user", "create", "--password", "first-pw",
                          "--project", name, f"{name}-user")
    admin_cli.run("user", "set", "--password", "second-pw", user["id"])
    group = admin_cli.json("group", "create", f"{name}-group")
    admin_cli.run("group", "add", "user", group["id"], user["id"])
    admin_cli.run("role", "add", "--project", name, "--group", group["id"], "member")

    rows = admin_cli.json("role", "assignment", "list", "--effective", "--names",
                          "--project", name)
    assert any(r["Role"] == "member" and r["User"].startswith(f"{name}-user") for r in rows)

    admin_cli.run("role", "remove", "--project", name, "--group", group["id"], "member")
    rows = admin_cli.json("role", "assignment", "list", "--effective", "--project", name)
    assert rows == []
    admin_cli.run("user", "delete", user["id"])
    admin_cli.run("group", "delete", group["id"])
    admin_cli.run("project", "delete", project["id"])
    assert admin_cli.run("project", "show", project["id"], check=False).returncode != 0


def test_application_credential_authenticates(admin_cli, name):
    cred = admin_cli.json("application", "credential", "create", name)
    env = {"OS_AUTH_TYPE": "v3applicationcredential",
           "OS_APPLICATION_CREDENTIAL_ID": cred["ID"],
           "OS_APPLICATION_CREDENTIAL_SECRET": cred["Secret"]}
    auth_url = openstack.config.OpenStackConfig().get_one(
        cloud="stratus-admin").config["auth"]["auth_url"]
    env["OS_AUTH_URL"] = auth_url
    token = admin_cli.run("token", "issue", "-f", "json", cloud=False, extra_env=env)
    assert token.returncode == 0, token.stderr
    admin_cli.run("application", "credential", "delete", cred["ID"])


def test_sdk_connects_as_demo_and_member_is_isolated(demo_cli):
    conn = openstack.connect(cloud="stratus-demo")
    projects = list(conn.identity.user_projects(conn.current_user_id))
    assert [p.name for p in projects] == ["demo"]

    denied = demo_cli.run("user", "list", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr
    identity = conn.session.get_endpoint(service_type="identity", interface="public")
    response = requests.get(f"{identity}/v3/users", headers={"X-Auth-Token": conn.auth_token},
                            timeout=30)
    assert response.status_code == 403
    assert set(response.json()["error"]) == {"code", "message", "title"}


def test_revoked_token_is_rejected_everywhere(admin_cli):
    conn = openstack.connect(cloud="stratus-demo")
    token = conn.auth_token
    identity = conn.session.get_endpoint(service_type="identity", interface="public")
    admin_cli.run("token", "revoke", token)
    image = conn.session.get_endpoint(service_type="image", interface="public")
    for url in (f"{identity}/v3/auth/catalog", f"{identity}/v3/auth/projects",
                f"{identity}/v3/users/{conn.current_user_id}", f"{image}/v2/images"):
        response = requests.get(url, headers={"X-Auth-Token": token}, timeout=30)
        assert response.status_code == 401, url
