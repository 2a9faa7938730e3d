"""Default policy rules of the block storage API (Cinder's rule names).

Project-scoped rules are checked against the caller's own project; the service layer
then scopes every lookup to that project (another project's volume is a 404), so
"member of the project" and "owner of the resource" come to the same thing. Admins see
and act on every project's resources.
"""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
READER = "rule:project_reader"
MEMBER = "rule:project_member"

_RULES = {
    # volumes
    "volume:create": (MEMBER, "Create a volume."),
    "volume:create_from_image": (MEMBER, "Create a volume from an image."),
    "volume:get": (READER, "Show a volume."),
    "volume:get_all": (READER, "List volumes, or their summary."),
    "volume:update": (MEMBER, "Update a volume's name or description."),
    "volume:delete": (MEMBER, "Delete a volume."),
    "volume:force_delete": (ADMIN, "Delete a volume whatever its status."),
    "volume:extend": (MEMBER, "Extend a volume."),
    "volume:extend_attached_volume": (MEMBER, "Extend an attached volume."),
    "volume:retype": (MEMBER, "Change a volume's type."),
    "volume:update_readonly_flag": (MEMBER, "Set a volume's read-only flag."),
    "volume:multiattach": (MEMBER, "Create a multiattach-capable volume."),
    "volume:get_volume_metadata": (READER, "Show a volume's metadata."),
    "volume:create_volume_metadata": (MEMBER, "Add metadata to a volume."),
    "volume:update_volume_metadata": (MEMBER, "Replace a volume's metadata."),
    "volume:delete_volume_metadata": (MEMBER, "Delete a volume metadata item."),
    "volume_extension:volume_image_metadata:show": (READER, "Show a volume's image "
                                                    "metadata."),
    "volume_extension:volume_image_metadata:set": (MEMBER, "Set a volume's image metadata."),
    "volume_extension:volume_image_metadata:remove": (MEMBER, "Remove volume image "
                                                      "metadata."),
    "volume_extension:volume_host_attribute": (ADMIN, "See os-vol-host-attr:host."),
    "volume_extension:volume_mig_status_attribute": (ADMIN, "See migration attributes."),
    "volume_extension:volume_tenant_attribute": (READER, "See a volume's project."),
    "volume_extension:volume_actions:upload_image": (MEMBER, "Upload a volume to the image "
                                                     "service."),
    "volume_extension:volume_actions:upload_public": (ADMIN, "Upload a volume as a public "
                                                      "image."),
    "volume_extension:volume_admin_actions:reset_status": (ADMIN, "Reset a volume's "
                                                           "status."),
    "volume_extension:volume_admin_actions:force_delete": (ADMIN, "Force-delete a volume."),
    "volume_extension:volume_admin_actions:force_detach": (ADMIN, "Force-detach a volume."),
    "volume_extension:volume_actions:initialize_connection": (MEMBER, "Export a volume to "
                                                              "a connector."),
    "volume_extension:volume_actions:terminate_connection": (MEMBER, "Remove a volume's "
                                                             "export."),
    "volume_extension:volume_actions:reserve": (MEMBER, "Reserve a volume for attaching."),
    "volume_extension:volume_actions:unreserve": (MEMBER, "Unreserve a volume."),
    "volume_extension:volume_actions:begin_detaching": (MEMBER, "Start detaching a "
                                                        "volume."),
    "volume_extension:volume_actions:roll_detaching": (MEMBER, "Roll a detach back."),
    "volume_extension:volume_actions:attach": (MEMBER, "Mark a volume attached."),
    "volume_extension:volume_actions:detach": (MEMBER, "Mark a volume detached."),
    # attachments (3.27)
    "volume:attachment_create": (MEMBER, "Create an attachment."),
    "volume:attachment_update": (MEMBER, "Connect an attachment."),
    "volume:attachment_complete": (MEMBER, "Mark an attachment attached."),
    "volume:attachment_delete": (MEMBER, "Delete an attachment."),
    "volume:attachment_get": (READER, "Show or list attachments."),
    # snapshots
    "volume:create_snapshot": (MEMBER, "Create a snapshot."),
    "volume:get_snapshot": (READER, "Show a snapshot."),
    "volume:get_all_snapshots": (READER, "List snapshots."),
    "volume:update_snapshot": (MEMBER, "Update a snapshot."),
    "volume:delete_snapshot": (MEMBER, "Delete a snapshot."),
    "volume:get_snapshot_metadata": (READER, "Show a snapshot's metadata."),
    "volume:update_snapshot_metadata": (MEMBER, "Change a snapshot's metadata."),
    "volume:delete_snapshot_metadata": (MEMBER, "Delete a snapshot metadata item."),
    "volume_extension:extended_snapshot_attributes": (READER, "See snapshot progress and "
                                                      "project."),
    "volume_extension:snapshot_admin_actions:reset_status": (ADMIN, "Reset a snapshot's "
                                                             "status."),
    "volume_extension:snapshot_admin_actions:force_delete": (ADMIN, "Force-delete a "
                                                             "snapshot."),
    # backups
    "backup:create": (MEMBER, "Create a backup."),
    "backup:get": (READER, "Show a backup."),
    "backup:get_all": (READER, "List backups."),
    "backup:update": (MEMBER, "Update a backup."),
    "backup:delete": (MEMBER, "Delete a backup."),
    "backup:restore": (MEMBER, "Restore a backup."),
    "backup:backup_project_attribute": (ADMIN, "See a backup's project."),
    "volume_extension:backup_admin_actions:reset_status": (ADMIN, "Reset a backup's status."),
    "volume_extension:backup_admin_actions:force_delete": (ADMIN, "Force-delete a backup."),
    # types
    "volume_extension:types_manage": (ADMIN, "Create, update and delete volume types."),
    "volume_extension:type_get": (READER, "Show a volume type."),
    "volume_extension:type_get_all": (READER, "List volume types."),
    "volume_extension:access_types_extra_specs": (ADMIN, "See types' extra specs."),
    "volume_extension:access_types_qos_specs_id": (ADMIN, "See types' QoS specs ID."),
    "volume_extension:types_extra_specs:index": (READER, "List a type's extra specs."),
    "volume_extension:types_extra_specs:show": (READER, "Show a type's extra spec."),
    "volume_extension:types_extra_specs:create": (ADMIN, "Set a type's extra specs."),
    "volume_extension:types_extra_specs:update": (ADMIN, "Update a type's extra spec."),
    "volume_extension:types_extra_specs:delete": (ADMIN, "Delete a type's extra spec."),
    "volume_extension:volume_type_access": (READER, "See whether types are public."),
    "volume_extension:volume_type_access:addProjectAccess": (ADMIN, "Grant a project a "
                                                             "private type."),
    "volume_extension:volume_type_access:removeProjectAccess": (ADMIN, "Revoke a project's "
                                                                "access to a type."),
    "volume_extension:volume_type_access:get_all_for_type": (ADMIN, "List the projects of "
                                                             "a private type."),
    # quotas, limits, services, zones, pools
    "volume_extension:quotas:show": (READER, "Show a project's quotas (own project, or "
                                             "any for admins)."),
    "volume_extension:quotas:update": (ADMIN, "Set a project's quotas."),
    "volume_extension:quotas:delete": (ADMIN, "Reset a project's quotas."),
    "limits_extension:used_limits": (READER, "Show limits and usage."),
    "volume_extension:services:index": (ADMIN, "List volume services."),
    "volume_extension:services:update": (ADMIN, "Enable or disable a volume service."),
    "volume_extension:availability_zone_list": ("", "List availability zones."),
    "scheduler_extension:scheduler_stats:get_pools": (ADMIN, "List backend pools."),
}


def list_rules() -> list[policy.RuleDefault]:
    """The block storage API's default rules, for the enforcer and the sample generator."""
    return [policy.RuleDefault(name, check, description)
            for name, (check, description) in sorted(_RULES.items())]
