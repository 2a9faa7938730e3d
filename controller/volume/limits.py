"""The project's absolute limits and usage, as Cinder's /limits shows them."""

from __future__ import annotations

from common.context import RequestContext
from controller.runtime import Runtime
from controller.volume import quotas

# Cinder's limit names: (max name, used name, quota resource)
NAMES = (("maxTotalVolumes", "totalVolumesUsed", "volumes"),
         ("maxTotalSnapshots", "totalSnapshotsUsed", "snapshots"),
         ("maxTotalVolumeGigabytes", "totalGigabytesUsed", "gigabytes"),
         ("maxTotalBackups", "totalBackupsUsed", "backups"),
         ("maxTotalBackupGigabytes", "totalBackupGigabytesUsed", "backup_gigabytes"))


def absolute(rt: Runtime, ctx: RequestContext, project_id: str | None = None) -> dict[str, int]:
    """{maxTotalVolumes: limit, totalVolumesUsed: usage, ...} of project_id (ctx's own
    project unless an administrator names another)."""
    project = project_id if project_id and ctx.is_admin else ctx.project_id
    project_limits = quotas.limits(rt, project)
    used = quotas.usage(rt, project)
    result: dict[str, int] = {}
    for max_name, used_name, resource in NAMES:
        result[max_name] = project_limits[resource]
        result[used_name] = used[resource]
    return result
