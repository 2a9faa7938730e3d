from __future__ import annotations

import pytest

from common.context import RequestContext
from controller import conf as controller_conf
from controller import exceptions
from controller.policy import Enforcer


@pytest.fixture(scope="module")
def enforcer():
    return Enforcer(controller_conf.make(None), policy_file="/nonexistent/policy.yaml")


def test_member_cannot_list_users_but_can_read_itself(enforcer):
    member = RequestContext(user_id="u1", project_id="p1", roles=["member", "reader"])
    with pytest.raises(exceptions.Forbidden):
        enforcer.enforce(member, "identity:list_users")
    enforcer.enforce(member, "identity:get_user", {"target.user.id": "u1"})
    with pytest.raises(exceptions.Forbidden):
        enforcer.enforce(member, "identity:get_user", {"target.user.id": "u2"})
    enforcer.enforce(member, "identity:get_project", {"target.project.id": "p1"})


def test_admin_may_do_anything_in_identity(enforcer):
    admin = RequestContext(user_id="a", project_id="p", roles=["admin"])
    enforcer.enforce(admin, "identity:delete_domain", {"target.domain.id": "x"})


def test_policy_file_overrides_defaults(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"identity:list_users": "role:reader"\n')
    enforcer = Enforcer(controller_conf.make(None), policy_file=str(policy_file))
    reader = RequestContext(user_id="u1", project_id="p1", roles=["reader"])
    enforcer.enforce(reader, "identity:list_users")
    with pytest.raises(exceptions.Forbidden):
        enforcer.enforce(reader, "identity:create_user")
