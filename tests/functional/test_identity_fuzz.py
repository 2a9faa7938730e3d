"""Property-based fuzzing of every identity route: no input may produce a 5xx.

Routes come from the application's own URL map, so a new route is fuzzed the day it is
added. Bodies are random JSON, JSON shaped like each resource with random field values,
and raw bytes; callers are the admin, a member, nobody, and a forged token.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime
from tests.functional import fuzz, support

FIELDS = ["name", "domain_id", "password", "enabled", "description", "id", "type", "url",
          "interface", "service_id", "region_id", "parent_id", "tags", "secret", "roles",
          "expires_at", "unrestricted", "original_password", "options", "email",
          "default_project_id", "parent_region_id", "identity", "methods", "scope", "user",
          "token", "application_credential", "is_domain", "region"]
RESOURCES = ["project", "user", "domain", "group", "role", "region", "service", "endpoint",
             "application_credential", "auth"]

bodies = fuzz.bodies(FIELDS, RESOURCES)
# Flask answers HEAD for every GET route itself; only check_token serves its own.
_APP_ROUTES = fuzz.routes("/identity", methods=lambda rule: rule.methods - {"OPTIONS"} - (
    {"HEAD"} if "GET" in rule.methods and rule.endpoint != "identity.check_token" else set()))


@pytest.fixture(scope="module")
def fuzz_cloud(database_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    conf = support.make_conf(database_url, str(root / "keys"))
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(str(root / "keys")).setup()
    ids = bootstrap.run(rt, bootstrap.Options(admin_password="admin-pw",
                                              demo_password="demo-pw",
                                              public_url="http://127.0.0.1:8770"))
    cloud = support.Cloud(create_app(conf, rt).test_client(), rt, ids)
    yield cloud
    db_base.reset()


@pytest.mark.parametrize(("rule", "method"), _APP_ROUTES,
                         ids=[f"{m} {r}" for r, m in _APP_ROUTES])
def test_route_never_fails_with_5xx(fuzz_cloud, rule, method):
    # Earlier routes' examples may have disabled or re-passworded the users: restore them.
    fuzz_cloud.ids.update(bootstrap.run(fuzz_cloud.rt, bootstrap.Options(
        admin_password="admin-pw", demo_password="demo-pw",
        public_url="http://127.0.0.1:8770")))
    tokens = {"admin": fuzz_cloud.admin(), "member": fuzz_cloud.demo(), "none": None,
              "forged": fuzz.FORGED_TOKEN}
    disposable = [fuzz_cloud.ids["demo_user_id"], "default", "RegionOne"]

    @settings(max_examples=30, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(caller=st.sampled_from(sorted(tokens)), body=bodies,
           params=st.lists(st.sampled_from(disposable) | st.text(min_size=1, max_size=70),
                           min_size=4, max_size=4),
           query=st.dictionaries(st.sampled_from(["name", "enabled", "effective", "limit",
                                                  "include_names", "user.id", "nocatalog"]),
                                 st.text(max_size=20), max_size=3))
    def check(caller, body, params, query):
        headers = {"X-Subject-Token": tokens["member"]}
        if tokens[caller]:
            headers["X-Auth-Token"] = tokens[caller]
        response = fuzz.request(fuzz_cloud.client, rule, method, params, headers, query, body)
        if response.status_code >= 400 and method != "HEAD":
            error = response.get_json()["error"]
            assert error["code"] == response.status_code and error["message"]

    check()
