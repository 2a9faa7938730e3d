"""Property-based fuzzing of every identity route: no input may produce a 5xx.

Routes come from the application's own URL map, so a new route is fuzzed the day it is
added. Bodies are random JSON, JSON shaped like each resource with random field values,
and raw bytes; callers are the admin, a member, nobody, and a forged token.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime
from tests.functional import support

FIELDS = ["name", "domain_id", "password", "enabled", "description", "id", "type", "url",
          "interface", "service_id", "region_id", "parent_id", "tags", "secret", "roles",
          "expires_at", "unrestricted", "original_password", "options", "email",
          "default_project_id", "parent_region_id", "identity", "methods", "scope", "user",
          "token", "application_credential", "is_domain", "region"]
RESOURCES = ["project", "user", "domain", "group", "role", "region", "service", "endpoint",
             "application_credential", "auth"]

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=80) | st.text(min_size=250, max_size=300))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), inner, max_size=4),
    max_leaves=10)
shaped = st.builds(lambda key, fields: {key: fields}, st.sampled_from(RESOURCES),
                   st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6))
bodies = st.none() | json_values | shaped | st.binary(max_size=64)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/identity"):
            continue
        for method in sorted(rule.methods - {"OPTIONS"}):
            automatic_head = "GET" in rule.methods and rule.endpoint != "identity.check_token"
            if method == "HEAD" and automatic_head:
                continue  # Flask's automatic HEAD for a GET route
            yield rule.rule, method


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


_APP_ROUTES = sorted(set(_routes(create_app(support.make_conf("sqlite://", "/nonexistent")))))


@pytest.mark.parametrize(("rule", "method"), _APP_ROUTES,
                         ids=[f"{m} {r}" for r, m in _APP_ROUTES])
def test_route_never_fails_with_5xx(fuzz_cloud, rule, method):
    # Earlier routes' examples may have disabled or re-passworded the users: restore them.
    fuzz_cloud.ids.update(bootstrap.run(fuzz_cloud.rt, bootstrap.Options(
        admin_password="admin-pw", demo_password="demo-pw",
        public_url="http://127.0.0.1:8770")))
    tokens = {"admin": fuzz_cloud.admin(), "member": fuzz_cloud.demo(), "none": None,
              "forged": "gAAAAABforged-token"}
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
        values = iter(params)
        path = re.sub(r"<(?:\w+:)?\w+>",
                      lambda _: urllib.parse.quote(next(values), safe=""), rule)
        headers = {"X-Subject-Token": tokens["member"]}
        if tokens[caller]:
            headers["X-Auth-Token"] = tokens[caller]
        kwargs = {"json": body} if not isinstance(body, bytes) else {
            "data": body, "content_type": "application/json"}
        response = fuzz_cloud.client.open(path, method=method, headers=headers,
                                          query_string=query, **kwargs)
        assert response.status_code < 500, (method, path, body, response.get_data()[:300])
        if response.status_code >= 400 and method != "HEAD":
            error = response.get_json()["error"]
            assert error["code"] == response.status_code and error["message"]

    check()
