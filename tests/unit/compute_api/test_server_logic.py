"""Server logic without a database: state rules, status filters, create-request checks,
quota messages and list ordering."""

from __future__ import annotations

import pytest

from common.context import RequestContext
from controller import exceptions, quotas
from controller.compute import (
    actions,
    compute_services,
    server_list,
    server_metadata,
    server_requests,
    states,
)
from controller.compute import quotas as compute_quotas

ADMIN = RequestContext(roles=["admin"], project_id="p-admin")
MEMBER = RequestContext(roles=["member"], project_id="p1")


@pytest.mark.parametrize(("action", "vm_state", "task_state", "allowed"), [
    ("stop", "active", None, True),
    ("stop", "stopped", None, False),
    ("stop", "active", "powering-off", False),
    ("start", "stopped", None, True),
    ("reboot_soft", "active", "rebooting", True),
    ("reboot_soft", "stopped", None, False),
    ("reboot_hard", "error", "rebooting", True),
    ("resize", "active", None, True),
    ("resize", "paused", None, False),
    ("confirm_resize", "resized", None, True),
    ("delete", "building", "scheduling", True),
    ("delete", "active", "deleting", False),
    ("snapshot", "suspended", None, True),
    ("console", "active", "image_snapshot", True),
    ("console", "stopped", None, False),
])
def test_state_table(action, vm_state, task_state, allowed):
    rule = states.ACTIONS[action]
    if allowed:
        actions.check(action, rule, "u1", vm_state, task_state)
    else:
        with pytest.raises(exceptions.Conflict, match="Cannot '.*' instance u1 while it is"):
            actions.check(action, rule, "u1", vm_state, task_state)


def test_metadata_and_tag_rules_accept_any_task():
    actions.check("update_instance_metadata", server_metadata.METADATA_RULE, "u", "active",
                  "powering-off")
    with pytest.raises(exceptions.Conflict, match="vm_state building"):
        actions.check("update_instance_metadata", server_metadata.METADATA_RULE, "u",
                      "building", None)
    actions.check("update tag", server_metadata.TAGS_RULE, "u", "shelved", None)


def test_status_filter():
    assert states.status_filter(["ACTIVE"]) == ({"active"}, None)
    vm_states, tasks = states.status_filter(["reboot"])
    assert vm_states == {"active"} and tasks == set(states.SOFT_REBOOT_STATES)
    vm_states, tasks = states.status_filter(["SHUTOFF", "RESIZE"])
    assert vm_states == {"stopped", "active"} and tasks is None
    assert states.status_filter(["BOGUS"]) == (set(), set())


def test_deleted_status_is_admin_only():
    query = server_list.ListQuery(project_id="p1", statuses=["DELETED"])
    with pytest.raises(exceptions.Forbidden, match="Only administrators"):
        server_list.conditions(MEMBER, query)
    assert server_list.conditions(ADMIN, query)


def test_sort_keys():
    assert len(server_list.order(MEMBER, [])) == 2  # created_at desc, uuid desc
    assert len(server_list.order(MEMBER, [("vcpus", "asc")])) == 1  # ignored key
    with pytest.raises(exceptions.Forbidden, match="sort servers by host"):
        server_list.order(MEMBER, [("host", "asc")])
    assert server_list.order(ADMIN, [("host", "asc")])
    with pytest.raises(exceptions.BadRequest):
        server_list.order(MEMBER, [("display_name", "sideways")])
    with pytest.raises(exceptions.BadRequest):
        server_list.order(MEMBER, [("password", "asc")])


def test_bad_name_regex_is_400():
    with pytest.raises(exceptions.BadRequest, match="regular expression"):
        server_list.conditions(MEMBER, server_list.ListQuery(project_id="p1", name="(["))


@pytest.mark.parametrize(("name", "hostname"), [
    ("web 1", "web-1"), ("A_B.c", "a-b-c"), ("..--x--..", "x"), ("ünïcode", "ncode"),
    ("!!!", "server-u1"), ("x" * 80, "x" * 63)])
def test_hostname_from_name(name, hostname):
    assert server_requests.sanitize_hostname(name, "server-u1") == hostname


def test_user_data_must_be_base64():
    server_requests.check_user_data(None)
    server_requests.check_user_data("I2Nsb3VkLWNvbmZpZwo=")
    server_requests.check_user_data("I2Nsb3Vk\nLWNvbmZpZwo=")  # wrapped lines, as Nova
    with pytest.raises(exceptions.BadRequest, match="base 64"):
        server_requests.check_user_data("abc")


def test_quota_messages():
    excess = quotas.over({"instances": 1, "cores": 2}, {"instances": 10, "cores": 19},
                         {"instances": 10, "cores": 20})
    assert compute_quotas.over_message(excess) == (
        "Quota exceeded for instances, cores: Requested 1, 2, but already used 10, 19 of "
        "10, 20 instances, cores")
    assert quotas.over({"ram": 512}, {"ram": 0}, {"ram": -1}) == []


def test_console_url_types_and_host_status_names():
    from controller.compute import consoles

    assert set(consoles.TYPES) == {"novnc", "serial"}
    assert compute_services.COMPUTE_BINARY == "stratus-compute-agent"
