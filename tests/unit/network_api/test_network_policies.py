"""Neutron's default rules as Stratus ships them."""

from __future__ import annotations

import pytest

from common.context import RequestContext
from controller import conf as controller_conf
from controller import exceptions
from controller.policy import Enforcer

MEMBER = RequestContext(user_id="u", project_id="p1", roles=["member", "reader"])
ADMIN = RequestContext(user_id="a", project_id="p0", roles=["admin"])


@pytest.fixture(scope="module")
def enforcer():
    return Enforcer(controller_conf.make(None), policy_file="/nonexistent/policy.yaml")


def test_provider_and_sharing_are_admin_only(enforcer):
    enforcer.enforce(MEMBER, "create_network", {"project_id": "p1"})
    for rule in ("create_network:shared", "create_network:router:external",
                 "create_network:provider:network_type", "get_network:provider:network_type",
                 "create_port:binding:host_id", "update_quota", "get_agent"):
        with pytest.raises(exceptions.Forbidden):
            enforcer.enforce(MEMBER, rule, {"project_id": "p1"})
        enforcer.enforce(ADMIN, rule, {"project_id": "p1"})
    with pytest.raises(exceptions.Forbidden):
        enforcer.enforce(MEMBER, "create_network", {"project_id": "p2"})


def test_network_owner_rules(enforcer):
    mine = {"project_id": "p1", "network:project_id": "p1", "network:shared": False,
            "device_owner_is_network": True}
    theirs = {"project_id": "p1", "network:project_id": "p2", "network:shared": True,
              "device_owner_is_network": True}
    enforcer.enforce(MEMBER, "create_subnet", mine)
    enforcer.enforce(MEMBER, "create_port:fixed_ips:ip_address", mine)
    enforcer.enforce(MEMBER, "create_port:device_owner", mine)
    enforcer.enforce(MEMBER, "create_port:fixed_ips:subnet_id", theirs)
    for rule in ("create_subnet", "create_port:fixed_ips:ip_address",
                 "create_port:device_owner", "create_port:mac_address"):
        with pytest.raises(exceptions.Forbidden):
            enforcer.enforce(MEMBER, rule, theirs)
    enforcer.enforce(MEMBER, "create_port:device_owner",
                     {**theirs, "device_owner_is_network": False})
