"""Policy defaults in code, overridable from /etc/stratus/policy.yaml (oslo.policy)."""

from __future__ import annotations

import time
from typing import Any

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from common.context import RequestContext
from controller import exceptions
from controller.compute import policies as compute_policies
from controller.image import policies as image_policies
from controller.network import policies as network_policies
from controller.volume import policies as volume_policies

ADMIN = "rule:admin_required"
OWNER = "user_id:%(target.user.id)s"

BASE_RULES = [
    policy.RuleDefault("admin_required", "role:admin", "Cloud administrators."),
    policy.RuleDefault("service_role", "role:service", "Other OpenStack services."),
    policy.RuleDefault("reader", "role:reader or role:member or role:admin",
                       "Any role that may read a project's resources."),
    policy.RuleDefault("member", "role:member or role:admin",
                       "Any role that may change a project's resources."),
    policy.RuleDefault("project_reader", "rule:admin_required or "
                       "(rule:reader and project_id:%(project_id)s)",
                       "Readers of the project that owns the target."),
    policy.RuleDefault("project_member", "rule:admin_required or "
                       "(rule:member and project_id:%(project_id)s)",
                       "Members of the project that owns the target."),
]


def _identity_rules() -> list[policy.RuleDefault]:
    rules: dict[str, str] = {}
    for resource in ("domain", "project", "user", "group", "role", "region", "service",
                     "endpoint"):
        for action in ("create", "update", "delete", "get"):
            rules[f"identity:{action}_{resource}"] = ADMIN
        rules[f"identity:list_{resource}s"] = ADMIN
    rules.update({
        "identity:get_domain": f"{ADMIN} or token.domain.id:%(target.domain.id)s",
        "identity:get_project": f"{ADMIN} or project_id:%(target.project.id)s",
        "identity:list_user_projects": f"{ADMIN} or {OWNER}",
        "identity:get_user": f"{ADMIN} or {OWNER}",
        "identity:change_password": OWNER,
        "identity:list_groups_for_user": f"{ADMIN} or {OWNER}",
        "identity:list_users_in_group": ADMIN,
        "identity:add_user_to_group": ADMIN,
        "identity:remove_user_from_group": ADMIN,
        "identity:check_user_in_group": ADMIN,
        "identity:get_region": "",
        "identity:list_regions": "",
        "identity:create_grant": ADMIN,
        "identity:revoke_grant": ADMIN,
        "identity:check_grant": ADMIN,
        "identity:list_grants": ADMIN,
        "identity:list_role_assignments": ADMIN,
        "identity:validate_token": f"{ADMIN} or rule:service_role or "
                                   "user_id:%(target.token.user_id)s",
        "identity:revoke_token": f"{ADMIN} or user_id:%(target.token.user_id)s",
        "identity:create_application_credential": OWNER,
        "identity:get_application_credential": f"{ADMIN} or {OWNER}",
        "identity:list_application_credentials": f"{ADMIN} or {OWNER}",
        "identity:delete_application_credential": f"{ADMIN} or {OWNER}",
    })
    return [policy.RuleDefault(name, check, f"Identity API: {name.split(':')[1]}.")
            for name, check in sorted(rules.items())]


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule, for the enforcer and for `oslopolicy-sample-generator`."""
    return (BASE_RULES + _identity_rules() + image_policies.list_rules()
            + compute_policies.list_rules() + network_policies.list_rules()
            + volume_policies.list_rules())


RELOAD_INTERVAL = 10.0


class Enforcer:
    """Checks a request context against a named rule and a target dict.

    Changes to policy.yaml take effect within RELOAD_INTERVAL seconds: oslo.policy would
    otherwise look for the file on disk at every single check.
    """

    def __init__(self, conf: cfg.ConfigOpts, policy_file: str = "/etc/stratus/policy.yaml"):
        policy_opts.set_defaults(conf, policy_file=policy_file)
        self._enforcer = policy.Enforcer(conf)
        self._enforcer.register_defaults(list_rules())
        self._next_reload = 0.0

    def _reload_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_reload:
            return
        self._enforcer.use_conf = True
        self._enforcer.load_rules()
        self._enforcer.use_conf = False
        self._next_reload = now + RELOAD_INTERVAL

    def register(self, rules: list[policy.RuleDefault]) -> None:
        self._enforcer.register_defaults(rules)

    def enforce(self, ctx: RequestContext, rule: str, target: dict[str, Any] | None = None,
                creds: dict[str, Any] | None = None) -> None:
        """:raises Forbidden: the context may not do rule to target."""
        self._reload_if_due()
        full_target = dict(target or {})
        full_target.setdefault("project_id", ctx.project_id)
        credentials = creds if creds is not None else ctx.policy_creds()
        if not self._enforcer.enforce(rule, full_target, credentials):
            raise exceptions.Forbidden(
                f"You are not authorized to perform the requested action: {rule}.")
