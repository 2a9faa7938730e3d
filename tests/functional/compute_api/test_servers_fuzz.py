"""Property-based fuzzing of the server routes (and the quota, group, service and
hypervisor routes): no input may produce a 5xx, and every error is a Nova fault body.

Routes come from the application's URL map, so a new server route is fuzzed the day it
is added. Bodies are random JSON, bodies shaped like the real ones with random values,
and raw bytes; callers are the admin, a member, nobody and a forged token; path values
include a real server's ID, so handlers past the lookup are reached too.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.compute import quotas
from tests.functional import fuzz

PREFIXES = ("/compute/v2.1/servers", "/compute/v2.1/os-server-groups",
            "/compute/v2.1/os-quota-sets", "/compute/v2.1/os-services",
            "/compute/v2.1/os-hypervisors", "/compute/v2.1/limits")
FIELDS = ["name", "imageRef", "flavorRef", "networks", "metadata", "min_count",
          "max_count", "user_data", "key_name", "availability_zone", "tags", "type",
          "block_device_mapping_v2", "security_groups", "description", "accessIPv4",
          "length", "state", "policies", "instances", "cores", "force", "status",
          "forced_down", "host", "binary", "protocol", "adminPass", "meta", "uuid", "port"]
ENVELOPES = ["server", "rebuild", "resize", "reboot", "createImage", "os-stop", "os-start",
             "lock", "unlock", "os-getConsoleOutput", "os-resetState", "remote_console",
             "metadata", "meta", "tags", "server_group", "quota_set", "pause",
             "confirmResize", "os-getVNCConsole", "os:scheduler_hints"]

bodies = fuzz.bodies(FIELDS, ENVELOPES, st.sampled_from(["none", "auto", "HARD", "active",
                                                          "-1", "0", "novnc", "vnc"]))
_APP_ROUTES = fuzz.routes("/compute", skip=lambda rule: not rule.rule.startswith(PREFIXES))


@pytest.fixture(scope="module")
def target(env):
    return env.boot(name="fuzz-target")["id"]


@pytest.mark.parametrize(("rule", "method"), _APP_ROUTES,
                         ids=[f"{m} {r}" for r, m in _APP_ROUTES])
def test_route_never_fails_with_5xx(env, target, rule, method):
    # Earlier routes' examples may have deleted, locked or re-quota'd: restore.
    server_id = target
    quotas.reset(env.cloud.rt, env.projects["demo"])
    quotas.set_limits(env.cloud.rt, env.projects["demo"],
                      {"instances": -1, "cores": -1, "ram": -1})
    env.set_state(server_id, vm_state="active", task_state=None, host="fuzz-host",
                  deleted=False, locked=False)
    env.agent.answers.update(get_console_output="log",
                             get_console_endpoint={"host": "127.0.0.1", "port": 5900})
    tokens = dict(env.tokens, none=None, forged=fuzz.FORGED_TOKEN)
    known = [server_id, env.projects["demo"], "detail", "1", env.flavor]

    @settings(max_examples=30, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(caller=st.sampled_from(sorted(tokens)), body=bodies,
           params=st.lists(st.sampled_from(known) | st.text(min_size=1, max_size=60),
                           min_size=3, max_size=3),
           version=st.sampled_from(["2.1", "2.6", "2.26", "2.37", "2.53", "2.60", "9.9"]),
           query=st.dictionaries(st.sampled_from(
               ["name", "status", "limit", "marker", "sort_key", "sort_dir", "all_tenants",
                "changes-since", "tags", "deleted", "host", "image", "flavor",
                "with_servers", "offset", "all_projects", "user_id"]),
               st.text(max_size=20), max_size=3))
    def check(caller, body, params, version, query):
        headers = {"OpenStack-API-Version": f"compute {version}"}
        if tokens[caller]:
            headers["X-Auth-Token"] = tokens[caller]
        response = fuzz.request(env.cloud.client, rule, method, params, headers, query, body)
        if response.status_code >= 400:
            (fault,) = response.get_json().values()
            assert fault["code"] == response.status_code and fault["message"]

    check()
