"""Default policy rules of the compute API (Nova's rule names)."""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
READER = "rule:reader"
KEYPAIR_OWNER = "rule:admin_required or user_id:%(user_id)s"

_RULES = {
    "os_compute_api:os-flavors:index": ("", "List the flavors the caller can see."),
    "os_compute_api:os-flavors:show": ("", "Show a flavor the caller can see."),
    "os_compute_api:os-flavor-manage:create": (ADMIN, "Create a flavor."),
    "os_compute_api:os-flavor-manage:update": (ADMIN, "Update a flavor's description."),
    "os_compute_api:os-flavor-manage:delete": (ADMIN, "Delete a flavor."),
    "os_compute_api:os-flavor-extra-specs:index": (READER, "List a flavor's extra specs."),
    "os_compute_api:os-flavor-extra-specs:show": (READER, "Show a flavor extra spec."),
    "os_compute_api:os-flavor-extra-specs:create": (ADMIN, "Create flavor extra specs."),
    "os_compute_api:os-flavor-extra-specs:update": (ADMIN, "Update a flavor extra spec."),
    "os_compute_api:os-flavor-extra-specs:delete": (ADMIN, "Delete a flavor extra spec."),
    "os_compute_api:os-flavor-access": (ADMIN, "List the projects of a private flavor."),
    "os_compute_api:os-flavor-access:add_tenant_access": (ADMIN, "Grant a project a "
                                                          "private flavor."),
    "os_compute_api:os-flavor-access:remove_tenant_access": (ADMIN, "Revoke a project's "
                                                             "access to a private flavor."),
    "os_compute_api:os-keypairs:index": (KEYPAIR_OWNER, "List a user's key pairs."),
    "os_compute_api:os-keypairs:show": (KEYPAIR_OWNER, "Show a key pair."),
    "os_compute_api:os-keypairs:create": (KEYPAIR_OWNER, "Create or import a key pair."),
    "os_compute_api:os-keypairs:delete": (KEYPAIR_OWNER, "Delete a key pair."),
    "os_compute_api:os-availability-zone:list": (READER, "List availability zones."),
    "os_compute_api:os-availability-zone:detail": (ADMIN, "List availability zones with "
                                                   "their hosts."),
    "os_compute_api:limits": (READER, "Show the caller's project limits."),
}


def list_rules() -> list[policy.RuleDefault]:
    """The compute API's default rules, for the enforcer and the sample generator."""
    return [policy.RuleDefault(name, check, description)
            for name, (check, description) in sorted(_RULES.items())]
