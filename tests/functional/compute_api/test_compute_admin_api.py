"""Server groups, quota sets, limits, os-services, hypervisors and zones in-process, on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from controller.db.models.hosts import Allocation
from tests.functional.compute_api import fakes


def test_server_groups(fresh):
    env = fresh
    body = {"server_group": {"name": "g1", "policies": ["anti-affinity"]}}
    created = env.call("POST", "/os-server-groups", body=body)
    assert created.status_code == 200
    group = created.get_json()["server_group"]
    assert (group["policies"], group["members"], group["metadata"]) == \
        (["anti-affinity"], [], {})
    assert group["project_id"] == env.projects["demo"]
    assert "project_id" not in env.call("GET", f"/os-server-groups/{group['id']}",
                                        version="2.12").get_json()["server_group"]
    soft = {"server_group": {"name": "g2", "policies": ["soft-affinity"]}}
    assert env.call("POST", "/os-server-groups", body=soft, version="2.14").status_code \
        == 400
    for bad in ({"server_group": {"name": "x", "policies": ["affinity", "anti-affinity"]}},
                {"server_group": {"name": "", "policies": ["affinity"]}},
                {"server_group": {"name": "x", "policies": ["cluster"]}}):
        assert env.call("POST", "/os-server-groups", body=bad).status_code == 400
    server = env.boot(name="grouped", **{})
    hinted = {"server": {"name": "member", "imageRef": env.image_id,
                         "flavorRef": env.flavor, "networks": "none"},
              "os:scheduler_hints": {"group": group["id"]}}
    response = env.call("POST", "/servers", body=hinted)
    assert response.status_code == 202
    member = response.get_json()["server"]["id"]
    assert env.conductor.named("build_instances")[-1][0][1]["group_uuid"] == group["id"]
    shown = env.call("GET", f"/os-server-groups/{group['id']}").get_json()["server_group"]
    assert shown["members"] == [member] and server["id"] not in shown["members"]
    # Another project's group is not found, and not usable as a hint.
    assert env.call("GET", f"/os-server-groups/{group['id']}", "other").status_code == 404
    other_hint = dict(hinted, server=dict(hinted["server"]))
    assert env.call("POST", "/servers", "other", other_hint).status_code == 400
    listed = env.call("GET", "/os-server-groups").get_json()["server_groups"]
    assert group["id"] in [g["id"] for g in listed]
    assert env.call("GET", "/os-server-groups", "other").get_json()["server_groups"] == []
    assert group["id"] not in [g["id"] for g in env.call(
        "GET", "/os-server-groups", "admin").get_json()["server_groups"]]
    assert group["id"] in [g["id"] for g in env.call(
        "GET", "/os-server-groups?all_projects=True", "admin").get_json()["server_groups"]]
    assert env.call("GET", "/os-server-groups?all_projects=True&limit=1&offset=0",
                    "admin").get_json()["server_groups"].__len__() == 1
    assert env.call("DELETE", f"/os-server-groups/{group['id']}", "other").status_code == 404
    assert env.call("DELETE", f"/os-server-groups/{group['id']}").status_code == 204
    assert env.call("GET", f"/os-server-groups/{group['id']}").status_code == 404


def test_server_group_quotas(fresh):
    env = fresh
    other = env.projects["other"]
    env.call("PUT", f"/os-quota-sets/{other}", "admin",
             {"quota_set": {"server_groups": 1, "server_group_members": 1}})
    try:
        body = {"server_group": {"name": "only", "policies": ["affinity"]}}
        group = env.call("POST", "/os-server-groups", "other", body).get_json()[
            "server_group"]
        again = env.call("POST", "/os-server-groups", "other", body)
        assert again.status_code == 403
        assert again.get_json()["forbidden"]["message"] == \
            "Quota exceeded, too many server groups."
        hinted = {"server": {"name": "m", "imageRef": env.image_id,
                             "flavorRef": env.flavor, "networks": "none"},
                  "os:scheduler_hints": {"group": group["id"]}}
        assert env.call("POST", "/servers", "other", hinted).status_code == 202
        full = env.call("POST", "/servers", "other", hinted)
        assert full.status_code == 403
        assert "too many servers in group" in full.get_json()["forbidden"]["message"]
    finally:
        env.call("DELETE", f"/os-quota-sets/{other}", "admin")


def test_quota_sets(fresh):
    env = fresh
    other = env.projects["other"]
    shown = env.call("GET", f"/os-quota-sets/{other}", "other").get_json()["quota_set"]
    assert shown["id"] == other and shown["instances"] == 10 and shown["cores"] == 20
    assert "floating_ips" not in shown and "injected_files" not in shown
    old = env.call("GET", f"/os-quota-sets/{other}", "other", version="2.1").get_json()
    assert old["quota_set"]["floating_ips"] == 10
    assert old["quota_set"]["injected_file_path_bytes"] == 255
    assert env.call("GET", f"/os-quota-sets/{other}", "demo").status_code == 403
    defaults = env.call("GET", f"/os-quota-sets/{other}/defaults", "demo").get_json()
    assert defaults["quota_set"]["ram"] == 51200
    assert env.call("PUT", f"/os-quota-sets/{other}", "other",
                    {"quota_set": {"instances": 50}}).status_code == 403
    for bad in ({"quota_set": {"instances": -2}}, {"quota_set": {"bogus": 1}},
                {"quota_set": {"floating_ips": 1}}, {"quota_set": {"instances": "x"}}, {}):
        assert env.call("PUT", f"/os-quota-sets/{other}", "admin", bad).status_code == 400
    updated = env.call("PUT", f"/os-quota-sets/{other}", "admin",
                       {"quota_set": {"instances": 7, "ram": "-1"}}).get_json()["quota_set"]
    assert (updated["instances"], updated["ram"]) == (7, -1) and "id" not in updated
    path = f"/os-quota-sets/{other}/detail"
    before = env.call("GET", path, "other").get_json()["quota_set"]["instances"]["in_use"]
    env.boot("other", name="counted")
    detail = env.call("GET", path, "other").get_json()
    assert detail["quota_set"]["instances"] == {"limit": 7, "in_use": before + 1,
                                                "reserved": 0}
    below = env.call("PUT", f"/os-quota-sets/{other}", "admin",
                     {"quota_set": {"instances": 0}})
    assert below.status_code == 400 and "already used" in below.get_json()[
        "badRequest"]["message"]
    assert env.call("PUT", f"/os-quota-sets/{other}", "admin",
                    {"quota_set": {"instances": 0, "force": True}}).status_code == 200
    assert env.call("DELETE", f"/os-quota-sets/{other}", "admin").status_code == 202
    assert env.call("GET", f"/os-quota-sets/{other}", "other").get_json()[
        "quota_set"]["instances"] == 10


def test_limits(fresh):
    env = fresh
    limits = env.call("GET", "/limits", "other").get_json()["limits"]
    quota = env.call("GET", f"/os-quota-sets/{env.projects['other']}", "other").get_json()
    assert limits["rate"] == []
    assert limits["absolute"]["maxTotalInstances"] == quota["quota_set"]["instances"]
    assert "maxPersonality" not in limits["absolute"]
    old = env.call("GET", "/limits", "other", version="2.1").get_json()["limits"]["absolute"]
    assert old["maxTotalFloatingIps"] == 10 and old["maxPersonality"] == 5
    assert env.call("GET", f"/limits?tenant_id={env.projects['demo']}",
                    "other").status_code == 403
    admin_view = env.call("GET", f"/limits?tenant_id={env.projects['demo']}", "admin")
    assert admin_view.get_json()["limits"]["absolute"]["maxTotalInstances"] == -1


def test_services(fresh):
    env = fresh
    host = f"cmp-{uuid.uuid4().hex[:6]}"
    fakes.add_compute_host(env.cloud.rt, host)
    assert env.call("GET", "/os-services", "demo").status_code == 403
    services = env.call("GET", f"/os-services?host={host}", "admin", version="2.1")
    (service,) = services.get_json()["services"]
    assert (service["binary"], service["zone"], service["state"], service["status"]) == \
        ("stratus-compute-agent", "nova", "up", "enabled")
    assert isinstance(service["id"], int) and "forced_down" not in service
    body = {"host": host, "binary": "stratus-compute-agent"}
    disabled = env.call("PUT", "/os-services/disable-log-reason", "admin",
                        {**body, "disabled_reason": "maintenance"}, version="2.1")
    assert disabled.get_json() == {"service": {**body, "status": "disabled",
                                               "disabled_reason": "maintenance"}}
    assert env.call("PUT", "/os-services/enable", "admin", body,
                    version="2.1").get_json()["service"]["status"] == "enabled"
    assert env.call("PUT", "/os-services/enable", "admin", {**body, "host": "nope"},
                    version="2.1").status_code == 404
    assert env.call("PUT", "/os-services/enable", "admin", body).status_code == 404
    new = env.call("GET", f"/os-services?host={host}", "admin").get_json()["services"][0]
    assert len(new["id"]) == 36 and new["forced_down"] is False
    response = env.call("PUT", f"/os-services/{new['id']}", "admin",
                        {"status": "disabled", "disabled_reason": "upgrade"})
    assert response.status_code == 200
    assert (response.get_json()["service"]["status"],
            response.get_json()["service"]["disabled_reason"]) == ("disabled", "upgrade")
    forced = env.call("PUT", f"/os-services/{new['id']}", "admin", {"forced_down": True})
    assert forced.get_json()["service"]["state"] == "down"
    assert env.call("PUT", f"/os-services/{new['id']}", "admin",
                    {"status": "bogus"}).status_code == 400
    assert env.call("PUT", "/os-services/not-a-uuid", "admin",
                    {"status": "enabled"}).status_code == 400
    server_id = env.boot(name="hosted")["id"]
    env.set_state(server_id, host=host)
    assert env.call("DELETE", f"/os-services/{new['id']}", "admin").status_code == 409
    env.set_state(server_id, deleted=True, vm_state="deleted")
    assert env.call("DELETE", f"/os-services/{new['id']}", "admin").status_code == 204
    assert env.call("GET", f"/os-services?host={host}", "admin").get_json() == \
        {"services": []}


def test_hypervisors(fresh):
    env = fresh
    host = f"hyp-{uuid.uuid4().hex[:6]}"
    node = fakes.add_compute_host(env.cloud.rt, host)
    server_id = env.boot(name="on-hyp")["id"]
    env.set_state(server_id, host=host, node=host, vm_state="active", task_state=None)
    with env.cloud.rt.db.session() as session:
        session.add(Allocation(consumer_uuid=server_id, compute_node_id=node.id,
                               project_id=env.projects["demo"], vcpus=1, memory_mb=512,
                               disk_gb=1))
    assert env.call("GET", "/os-hypervisors", "demo").status_code == 403
    listed = env.call("GET", f"/os-hypervisors?hypervisor_hostname_pattern={host}",
                      "admin").get_json()["hypervisors"]
    assert listed == [{"id": node.uuid, "hypervisor_hostname": host, "state": "up",
                       "status": "enabled"}]
    detail = env.call("GET", f"/os-hypervisors/{node.uuid}?with_servers=true",
                      "admin").get_json()["hypervisor"]
    assert (detail["vcpus_used"], detail["memory_mb_used"], detail["local_gb_used"],
            detail["running_vms"], detail["free_ram_mb"]) == (1, 1024, 1, 1, 15360)
    assert detail["cpu_info"] == {"arch": "x86_64"} and detail["service"]["host"] == host
    assert detail["servers"] == [{"name": "on-hyp", "uuid": server_id}]
    old = env.call("GET", f"/os-hypervisors/{node.id}", "admin", version="2.1").get_json()
    assert old["hypervisor"]["id"] == node.id and isinstance(
        old["hypervisor"]["cpu_info"], str)
    assert env.call("GET", f"/os-hypervisors/{node.id}", "admin").status_code == 400
    assert env.call("GET", f"/os-hypervisors/{uuid.uuid4()}", "admin").status_code == 404
    assert env.call("GET", "/os-hypervisors/abc", "admin", version="2.1").status_code == 404
    search = env.call("GET", f"/os-hypervisors/{host}/search", "admin", version="2.1")
    assert [h["hypervisor_hostname"] for h in search.get_json()["hypervisors"]] == [host]
    servers = env.call("GET", f"/os-hypervisors/{host}/servers", "admin", version="2.1")
    assert servers.get_json()["hypervisors"][0]["servers"][0]["uuid"] == server_id
    assert env.call("GET", "/os-hypervisors/zzz-none/search", "admin",
                    version="2.1").status_code == 404
    stats = env.call("GET", "/os-hypervisors/statistics", "admin").get_json()[
        "hypervisor_statistics"]
    assert stats["count"] >= 1 and stats["running_vms"] >= 1
    with env.cloud.rt.db.session() as session:
        session.execute(sa.delete(Allocation).where(Allocation.consumer_uuid == server_id))


def test_availability_zones(fresh):
    env = fresh
    host = f"az-{uuid.uuid4().hex[:6]}"
    fakes.add_compute_host(env.cloud.rt, host, zone="az2", up=False)
    zones = env.call("GET", "/os-availability-zone").get_json()["availabilityZoneInfo"]
    assert {"nova", "az2"} <= {z["zoneName"] for z in zones}
    detail = env.call("GET", "/os-availability-zone/detail", "admin").get_json()
    by_zone = {z["zoneName"]: z["hosts"] for z in detail["availabilityZoneInfo"]}
    assert by_zone["az2"][host]["stratus-compute-agent"]["available"] is False
    assert env.call("GET", "/os-availability-zone/detail").status_code == 403
    server = env.boot(name="in-az2", availability_zone="az2")
    assert env.row(server["id"]).availability_zone == "az2"
