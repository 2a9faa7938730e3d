"""Default policy rules of the image API (Glance's rule names, prefixed `image:`).

Visibility (who may see an image at all) is enforced by the service layer; these
rules add the role checks on top, with the image's owner as the target project_id.
"""

from __future__ import annotations

from oslo_policy import policy

OWNER_MEMBER = "rule:project_member"  # admin, or member of the owning project
READER = "rule:reader"
ADMIN = "rule:admin_required"

_RULES = {
    "image:get_images": (READER, "List images."),
    "image:get_image": (READER, "Show an image the caller can see."),
    "image:add_image": (OWNER_MEMBER, "Create an image owned by project_id."),
    "image:modify_image": (OWNER_MEMBER, "Update an image."),
    "image:delete_image": (OWNER_MEMBER, "Delete an image."),
    "image:publicize_image": (ADMIN, "Make an image public."),
    "image:communitize_image": (OWNER_MEMBER, "Make an image community."),
    "image:upload_image": (OWNER_MEMBER, "Upload image data."),
    "image:download_image": (READER, "Download image data."),
    "image:deactivate": (ADMIN, "Deactivate an image."),
    "image:reactivate": (ADMIN, "Reactivate an image."),
    "image:add_member": (OWNER_MEMBER, "Share an image with a project."),
    "image:delete_member": (OWNER_MEMBER, "Stop sharing an image with a project."),
    "image:get_member": (READER, "Show an image membership."),
    "image:get_members": (READER, "List an image's members."),
    "image:modify_member": ("rule:admin_required or (rule:member and "
                            "project_id:%(member_id)s)",
                            "Accept or reject an image shared with the caller's project."),
}


def list_rules() -> list[policy.RuleDefault]:
    """The image API's default rules, for the enforcer and the sample generator."""
    return [policy.RuleDefault(name, check, description)
            for name, (check, description) in sorted(_RULES.items())]
