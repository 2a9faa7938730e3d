"""Default policy rules of the compute API (Nova's rule names)."""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
READER = "rule:reader"
KEYPAIR_OWNER = "rule:admin_required or user_id:%(user_id)s"
PROJECT_READER = "rule:project_reader"
PROJECT_MEMBER = "rule:project_member"

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
    "os_compute_api:limits:other_project": (ADMIN, "Show another project's limits."),
}

# Servers and what hangs off them (Nova's names and defaults): members of the server's
# project change it, its readers look at it, admins do the rest.
_SERVER_RULES = {
    "os_compute_api:servers:index": (PROJECT_READER, "List the project's servers."),
    "os_compute_api:servers:detail": (PROJECT_READER, "List servers with details."),
    "os_compute_api:servers:index:get_all_tenants": (ADMIN, "List every project's "
                                                     "servers."),
    "os_compute_api:servers:detail:get_all_tenants": (ADMIN, "List every project's "
                                                      "servers with details."),
    "os_compute_api:servers:allow_all_filters": (ADMIN, "Filter server lists by any "
                                                 "attribute."),
    "os_compute_api:servers:show": (PROJECT_READER, "Show a server."),
    "os_compute_api:servers:show:host_status": (ADMIN, "See the host status of a "
                                                "server (2.16)."),
    "os_compute_api:servers:create": (PROJECT_MEMBER, "Create servers."),
    "os_compute_api:servers:create:forced_host": (ADMIN, "Create a server on a given "
                                                  "host (zone:host)."),
    "os_compute_api:servers:update": (PROJECT_MEMBER, "Rename or describe a server."),
    "os_compute_api:servers:delete": (PROJECT_MEMBER, "Delete a server."),
    "os_compute_api:servers:start": (PROJECT_MEMBER, "Start a stopped server."),
    "os_compute_api:servers:stop": (PROJECT_MEMBER, "Stop a server."),
    "os_compute_api:servers:reboot": (PROJECT_MEMBER, "Reboot a server."),
    "os_compute_api:servers:resize": (PROJECT_MEMBER, "Resize a server."),
    "os_compute_api:servers:confirm_resize": (PROJECT_MEMBER, "Confirm a resize."),
    "os_compute_api:servers:revert_resize": (PROJECT_MEMBER, "Revert a resize."),
    "os_compute_api:servers:rebuild": (PROJECT_MEMBER, "Rebuild a server."),
    "os_compute_api:servers:create_image": (PROJECT_MEMBER, "Snapshot a server."),
    "os_compute_api:os-pause-server:pause": (PROJECT_MEMBER, "Pause a server."),
    "os_compute_api:os-pause-server:unpause": (PROJECT_MEMBER, "Unpause a server."),
    "os_compute_api:os-suspend-server:suspend": (PROJECT_MEMBER, "Suspend a server."),
    "os_compute_api:os-suspend-server:resume": (PROJECT_MEMBER, "Resume a server."),
    "os_compute_api:os-lock-server:lock": (PROJECT_MEMBER, "Lock a server."),
    "os_compute_api:os-lock-server:unlock": (PROJECT_MEMBER, "Unlock a server."),
    "os_compute_api:os-lock-server:unlock:unlock_override": (ADMIN, "Unlock a server "
                                                             "an admin locked."),
    "os_compute_api:os-admin-actions:reset_state": (ADMIN, "Reset a server's state."),
    "os_compute_api:os-extended-server-attributes": (ADMIN, "See a server's host, "
                                                     "instance name and boot details."),
    "os_compute_api:os-console-output": (PROJECT_MEMBER, "Read a server's console log."),
    "os_compute_api:os-remote-consoles": (PROJECT_MEMBER, "Open a server's console."),
    "os_compute_api:os-instance-actions:list": (PROJECT_READER, "List a server's "
                                                "actions."),
    "os_compute_api:os-instance-actions:show": (PROJECT_READER, "Show a server action."),
    "os_compute_api:os-instance-actions:events": (ADMIN, "See action events (below "
                                                  "2.51) and their tracebacks."),
    "os_compute_api:server-metadata:index": (PROJECT_READER, "List server metadata."),
    "os_compute_api:server-metadata:show": (PROJECT_READER, "Show a metadata item."),
    "os_compute_api:server-metadata:create": (PROJECT_MEMBER, "Add server metadata."),
    "os_compute_api:server-metadata:update": (PROJECT_MEMBER, "Set a metadata item."),
    "os_compute_api:server-metadata:update_all": (PROJECT_MEMBER, "Replace server "
                                                  "metadata."),
    "os_compute_api:server-metadata:delete": (PROJECT_MEMBER, "Delete a metadata item."),
    "os_compute_api:os-server-tags:index": (PROJECT_READER, "List a server's tags."),
    "os_compute_api:os-server-tags:show": (PROJECT_READER, "Check a server tag."),
    "os_compute_api:os-server-tags:update": (PROJECT_MEMBER, "Add a server tag."),
    "os_compute_api:os-server-tags:update_all": (PROJECT_MEMBER, "Replace server tags."),
    "os_compute_api:os-server-tags:delete": (PROJECT_MEMBER, "Delete a server tag."),
    "os_compute_api:os-server-tags:delete_all": (PROJECT_MEMBER, "Delete all server "
                                                 "tags."),
    "os_compute_api:os-server-groups:create": (PROJECT_MEMBER, "Create a server group."),
    "os_compute_api:os-server-groups:delete": (PROJECT_MEMBER, "Delete a server group."),
    "os_compute_api:os-server-groups:index": (PROJECT_READER, "List server groups."),
    "os_compute_api:os-server-groups:index:all_projects": (ADMIN, "List every "
                                                           "project's server groups."),
    "os_compute_api:os-server-groups:show": (PROJECT_READER, "Show a server group."),
    "os_compute_api:os-quota-sets:show": (PROJECT_READER, "Show a project's quotas."),
    "os_compute_api:os-quota-sets:detail": (PROJECT_READER, "Show quotas with usage."),
    "os_compute_api:os-quota-sets:defaults": ("@", "Show the default quotas."),
    "os_compute_api:os-quota-sets:update": (ADMIN, "Set a project's quotas."),
    "os_compute_api:os-quota-sets:delete": (ADMIN, "Revert a project's quotas to the "
                                            "defaults."),
    "os_compute_api:os-services:list": (ADMIN, "List compute services."),
    "os_compute_api:os-services:update": (ADMIN, "Enable, disable or force down a "
                                          "service."),
    "os_compute_api:os-services:delete": (ADMIN, "Delete a service."),
    "os_compute_api:os-hypervisors:list": (ADMIN, "List hypervisors."),
    "os_compute_api:os-hypervisors:list-detail": (ADMIN, "List hypervisors with "
                                                  "details."),
    "os_compute_api:os-hypervisors:show": (ADMIN, "Show a hypervisor."),
    "os_compute_api:os-hypervisors:statistics": (ADMIN, "Show hypervisor totals."),
    "os_compute_api:os-hypervisors:search": (ADMIN, "Search hypervisors by name."),
    "os_compute_api:os-hypervisors:servers": (ADMIN, "List a hypervisor's servers."),
    "os_compute_api:os-hypervisors:uptime": (ADMIN, "Show a hypervisor's uptime."),
    "os_compute_api:os-aggregates:index": (ADMIN, "List host aggregates."),
    "os_compute_api:os-volumes-attachments:index": (PROJECT_READER, "List the volumes "
                                                    "attached to a server."),
    "os_compute_api:os-volumes-attachments:show": (PROJECT_READER, "Show a volume "
                                                   "attachment of a server."),
    "os_compute_api:os-volumes-attachments:create": (PROJECT_MEMBER, "Attach a volume "
                                                     "to a server."),
    "os_compute_api:os-volumes-attachments:update": (PROJECT_MEMBER, "Update a volume "
                                                     "attachment (swap, with :swap)."),
    "os_compute_api:os-volumes-attachments:swap": (ADMIN, "Swap the volume attached to "
                                                   "a server for another one."),
    "os_compute_api:os-volumes-attachments:delete": (PROJECT_MEMBER, "Detach a volume "
                                                     "from a server."),
}

# A server's network (Nova's names and defaults).
_NETWORK_RULES = {
    "os_compute_api:os-attach-interfaces:list": (PROJECT_READER, "List a server's "
                                                 "interfaces."),
    "os_compute_api:os-attach-interfaces:show": (PROJECT_READER, "Show a server "
                                                 "interface."),
    "os_compute_api:os-attach-interfaces:create": (PROJECT_MEMBER, "Attach an interface "
                                                   "(port or network) to a server."),
    "os_compute_api:os-attach-interfaces:delete": (PROJECT_MEMBER, "Detach an interface "
                                                   "from a server."),
    "os_compute_api:os-security-groups:list": (PROJECT_READER, "List a server's security "
                                               "groups."),
    "os_compute_api:os-security-groups:add": (PROJECT_MEMBER, "Add a security group to a "
                                              "server's ports."),
    "os_compute_api:os-security-groups:remove": (PROJECT_MEMBER, "Remove a security group "
                                                 "from a server's ports."),
    "os_compute_api:os-floating-ips:add": (PROJECT_MEMBER, "Associate a floating IP with "
                                           "a server (below 2.44)."),
    "os_compute_api:os-floating-ips:remove": (PROJECT_MEMBER, "Disassociate a floating IP "
                                              "from a server (below 2.44)."),
}


def list_rules() -> list[policy.RuleDefault]:
    """The compute API's default rules, for the enforcer and the sample generator."""
    return [policy.RuleDefault(name, check, description)
            for name, (check, description) in sorted({**_RULES, **_SERVER_RULES,
                                                      **_NETWORK_RULES}.items())]
