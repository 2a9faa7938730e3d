"""/limits: the project's absolute limits (its quotas) and what it uses, in Nova's format."""

from __future__ import annotations

import flask

from controller.api import compute, handler
from controller.api.compute import bp, server_access
from controller.compute import quotas

# Nova's absolute limit names -> quota resources.
LIMIT_NAMES = {"maxServerMeta": "metadata_items", "maxPersonality": "injected_files",
               "maxPersonalitySize": "injected_file_content_bytes",
               "maxImageMeta": "metadata_items", "maxTotalInstances": "instances",
               "maxTotalCores": "cores", "maxTotalRAMSize": "ram",
               "maxTotalKeypairs": "key_pairs", "maxServerGroups": "server_groups",
               "maxServerGroupMembers": "server_group_members",
               "maxSecurityGroups": "security_groups",
               "maxSecurityGroupRules": "security_group_rules",
               "maxTotalFloatingIps": "floating_ips"}
USED_NAMES = {"totalInstancesUsed": "instances", "totalCoresUsed": "cores",
              "totalRAMUsed": "ram", "totalServerGroupsUsed": "server_groups",
              "totalSecurityGroupsUsed": "security_groups",
              "totalFloatingIpsUsed": "floating_ips"}
_NETWORK = {"maxSecurityGroups", "maxSecurityGroupRules", "maxTotalFloatingIps",
            "totalSecurityGroupsUsed", "totalFloatingIpsUsed"}  # gone from 2.36
_PERSONALITY = {"maxPersonality", "maxPersonalitySize"}  # gone from 2.57


@bp.get("/v2.1/limits")
def show_limits():
    ctx = handler.authorize("os_compute_api:limits")
    project_id = server_access.require_project(ctx)
    requested = flask.request.args.get("tenant_id")
    if requested and requested != ctx.project_id:
        handler.authorize("os_compute_api:limits:other_project", {"project_id": requested})
        project_id = requested[:255]
    rt = handler.runtime()
    limits = quotas.limits(rt, project_id)
    used = quotas.usage(rt, project_id)
    absolute = {name: limits[key] for name, key in LIMIT_NAMES.items()}
    absolute.update({name: used[key] for name, key in USED_NAMES.items()})
    if compute.at_least("2.36"):
        absolute = {k: v for k, v in absolute.items() if k not in _NETWORK}
    if compute.at_least("2.57"):
        absolute = {k: v for k, v in absolute.items() if k not in _PERSONALITY}
    return {"limits": {"rate": [], "absolute": absolute}}
