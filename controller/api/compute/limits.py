"""/limits: the project's absolute limits and usage, in Nova's format."""

from __future__ import annotations

from controller.api import compute, handler
from controller.api.compute import bp
from controller.compute import keypairs

ABSOLUTE = {"maxServerMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240,
            "maxImageMeta": 128, "maxTotalInstances": 10, "maxTotalCores": 20,
            "maxTotalRAMSize": 51200, "maxTotalKeypairs": keypairs.MAX_KEYPAIRS,
            "maxServerGroups": 10, "maxServerGroupMembers": 10, "maxSecurityGroups": 10,
            "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10}
# Servers do not exist yet, so nothing is in use.
USED = {"totalInstancesUsed": 0, "totalCoresUsed": 0, "totalRAMUsed": 0,
        "totalServerGroupsUsed": 0, "totalSecurityGroupsUsed": 0, "totalFloatingIpsUsed": 0}
_NETWORK = {"maxSecurityGroups", "maxSecurityGroupRules", "maxTotalFloatingIps",
            "totalSecurityGroupsUsed", "totalFloatingIpsUsed"}  # gone from 2.36
_PERSONALITY = {"maxPersonality", "maxPersonalitySize"}  # gone from 2.57


@bp.get("/v2.1/limits")
def show_limits():
    handler.authorize("os_compute_api:limits")
    absolute = {**ABSOLUTE, **USED}
    if compute.at_least("2.36"):
        absolute = {k: v for k, v in absolute.items() if k not in _NETWORK}
    if compute.at_least("2.57"):
        absolute = {k: v for k, v in absolute.items() if k not in _PERSONALITY}
    return {"limits": {"rate": [], "absolute": absolute}}
