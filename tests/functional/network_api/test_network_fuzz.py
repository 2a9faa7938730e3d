"""Property-based fuzzing of every Network API route: no input may produce a 5xx.

Routes come from the application's URL map, so a new route is fuzzed the day it is
added. Bodies are random JSON, JSON shaped like each resource with random (and some
plausible) field values, and raw bytes; callers are the admin, a member, nobody and a
forged token; ids in paths are random text or ids of real resources.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional import fuzz

FIELDS = ["name", "network_id", "subnet_id", "port_id", "cidr", "ip_version", "gateway_ip",
          "allocation_pools", "dns_nameservers", "host_routes", "fixed_ips", "ip_address",
          "mac_address", "security_groups", "admin_state_up", "shared", "router:external",
          "provider:network_type", "provider:physical_network",
          "provider:segmentation_id", "mtu", "external_gateway_info", "routes",
          "floating_network_id", "floating_ip_address", "protocol", "direction",
          "ethertype", "port_range_min", "port_range_max", "remote_ip_prefix",
          "remote_group_id", "security_group_id", "allowed_address_pairs", "device_owner",
          "binding:host_id", "port_security_enabled", "project_id", "enable_dhcp",
          "network", "port", "start", "end", "destination", "nexthop", "description"]
RESOURCES = ["network", "subnet", "port", "router", "floatingip", "security_group",
             "security_group_rule", "quota", "agent"]
PLAUSIBLE = st.sampled_from(["10.0.0.0/24", "10.0.0.5", "fd00::/64", "::1", "0.0.0.0/0",
                             "fa:16:3e:00:00:01", "tcp", "icmp", "ingress", "IPv6",
                             "vxlan", "flat", "public", "network:dhcp", "300.1.1.1",
                             "10.0.0.0/33", "", "-1", "00000000-0000-0000-0000-000000000000"])

bodies = fuzz.bodies(FIELDS, RESOURCES, PLAUSIBLE)
_APP_ROUTES = fuzz.routes("/network")


@pytest.fixture(scope="module")
def known_ids(admin, demo):
    network = demo.ok("POST", "/networks", {"network": {"name": "fuzz"}}, 201)["network"]
    subnet = demo.ok("POST", "/subnets", {"subnet": {
        "network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}, 201)["subnet"]
    router = demo.ok("POST", "/routers", {"router": {"name": "fuzz"}}, 201)["router"]
    return [network["id"], subnet["id"], router["id"], network["project_id"]]


@pytest.mark.parametrize(("rule", "method"), _APP_ROUTES,
                         ids=[f"{m} {r}" for r, m in _APP_ROUTES])
def test_route_never_fails_with_5xx(cloud, admin, demo, known_ids, rule, method):
    tokens = {"admin": admin.token, "member": demo.token, "none": None,
              "forged": fuzz.FORGED_TOKEN}

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(caller=st.sampled_from(sorted(tokens)), body=bodies,
           params=st.lists(st.sampled_from(known_ids) | st.text(min_size=1, max_size=70),
                           min_size=3, max_size=3),
           query=st.dictionaries(st.sampled_from(["name", "limit", "marker", "fields",
                                                  "sort_key", "sort_dir", "shared",
                                                  "fixed_ips", "id", "router:external"]),
                                 st.text(max_size=20), max_size=3))
    def check(caller, body, params, query):
        headers = {"X-Auth-Token": tokens[caller]} if tokens[caller] else {}
        response = fuzz.request(cloud.client, rule, method, params, headers, query, body)
        if response.status_code >= 400:
            fault = response.get_json()["NeutronError"]
            assert fault["message"] and fault["type"]

    check()
