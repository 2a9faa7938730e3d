"""Property-based fuzzing of every block storage route: no input may produce a 5xx, and
every error is a Cinder fault ({"<name>": {"code", "message"}}).

Routes come from the application's URL map, so a new route is fuzzed the day it is
added. Callers are the admin, a member, another project's member, nobody and a forged
token; path parameters are live IDs (of each kind) or random text.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.context import RequestContext
from controller.volume import quotas
from tests.functional import fuzz
from tests.functional.volume_api import fakes

FIELDS = ["size", "name", "description", "volume_type", "snapshot_id", "source_volid",
          "imageRef", "backup_id", "metadata", "availability_zone", "new_size", "bootable",
          "readonly", "status", "attach_status", "connector", "instance_uuid",
          "volume_uuid", "mountpoint", "mode", "host", "binary", "volumes", "gigabytes",
          "extra_specs", "project", "volume_id", "force", "incremental", "image_name",
          "disk_format", "visibility", "key", "new_type", "is_public", "attachment_id",
          "os-volume-type-access:is_public", "initiator", "ip", "multiattach"]
WRAPPERS = ["volume", "snapshot", "backup", "attachment", "volume_type", "quota_set",
            "restore", "extra_specs", "metadata", "meta", "os-extend", "os-reset_status",
            "os-attach", "os-detach", "os-initialize_connection", "os-terminate_connection",
            "os-volume_upload_image", "os-set_bootable", "os-update_readonly_flag",
            "os-retype", "os-reserve", "os-force_delete", "os-set_image_metadata",
            "addProjectAccess", "removeProjectAccess", "os-complete", "os-unreserve"]

bodies = fuzz.bodies(FIELDS, WRAPPERS, st.uuids().map(str))
# Each view is also served without the project prefix; fuzz it once.
_APP_ROUTES = fuzz.routes("/volume", skip=lambda rule: "<project_id>" in rule.rule)


def _seed(cloud, demo) -> list[str]:
    """Live IDs of each kind for path parameters (the fuzz may delete them)."""
    admin = RequestContext(user_id="admin", project_id="admin", roles=["admin"])
    quotas.reset(cloud.rt, admin, demo.project_id)
    quotas.update(cloud.rt, admin, demo.project_id, {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1,
        "backup_gigabytes": -1})
    fakes.add_backend(cloud.rt, "fuzzhost", "file", total_capacity_gb=1e9,
                      free_capacity_gb=1e9)
    vol = demo.create_volume(1)
    snap = demo.ok("POST", "/snapshots", {"snapshot": {"volume_id": vol["id"]}})["snapshot"]
    backup = demo.ok("POST", "/backups", {"backup": {"volume_id": vol["id"]}})["backup"]
    attachment = demo.ok("POST", "/attachments", {"attachment": {
        "volume_uuid": demo.create_volume(1)["id"], "instance_uuid": str(uuid.uuid4())}},
        status=200)["attachment"]
    return [vol["id"], snap["id"], backup["id"], attachment["id"], demo.project_id,
            "__DEFAULT__", "default", "enable", "k"]


@pytest.mark.parametrize(("rule", "method"), _APP_ROUTES,
                         ids=[f"{m} {r}" for r, m in _APP_ROUTES])
def test_route_never_fails_with_5xx(cloud, admin, demo, other, rule, method):
    tokens = {"admin": admin.token, "member": demo.token, "other": other.token,
              "none": None, "forged": fuzz.FORGED_TOKEN}
    disposable = _seed(cloud, demo)

    @settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(caller=st.sampled_from(sorted(tokens)), body=bodies,
           params=st.lists(st.sampled_from(disposable) | st.text(min_size=1, max_size=70),
                           min_size=3, max_size=3),
           version=st.sampled_from(["3.0", "3.27", "3.44", "3.60", "latest", "4.0", "x"]),
           query=st.dictionaries(st.sampled_from(["name", "status", "limit", "marker",
                                                  "sort", "all_tenants", "metadata",
                                                  "with_count", "offset", "usage",
                                                  "created_at", "is_public", "cascade",
                                                  "detail", "host"]),
                                 st.text(max_size=20), max_size=3))
    def check(caller, body, params, version, query):
        headers = {"OpenStack-API-Version": f"volume {version}"}
        if tokens[caller]:
            headers["X-Auth-Token"] = tokens[caller]
        response = fuzz.request(cloud.client, rule, method, params, headers, query, body)
        if response.status_code >= 400:
            ((name, fault),) = response.get_json().items()
            assert fault["code"] == response.status_code and fault["message"], name

    check()
