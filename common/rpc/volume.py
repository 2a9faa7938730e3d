"""RPC between the block storage service and its volume agents.

- API/scheduler -> volume agent (topic ``[volume_rpc] agent_topic``, server
  ``<host>@<backend>``): served by ``agents.volume.manager.VolumeManager``. Workflow
  steps are *casts*; the agent reports their outcome through the server API below.
  Attachment plumbing (export/unexport with CHAP) are *calls*: the compute side needs the
  answer before it can attach.
- volume agent -> service (topic ``[volume_rpc] server_topic``): served by
  ``controller.volume.rpc.VolumeRpcManager`` inside the conductor daemon (agents never
  touch the database).

Payload shapes:

volume = {"id", "size" (GiB), "project_id", "volume_type_id", "name",
          "source": {"type": "blank" | "image" | "snapshot" | "volume", "id": str | None,
                     "image": {"id", "disk_format", "os_hash_algo", "os_hash_value",
                               "size"} | None},
          "provider_location": str | None}
connector = {"host": str, "ip": str, "initiator": str | None}
connection_info = {"driver_volume_type": "iscsi",
                   "data": {"target_iqn", "target_portal" ("ip:port"), "target_lun",
                            "auth_method": "CHAP", "auth_username", "auth_password",
                            "volume_id", "access_mode": "rw" | "ro"}}
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.context import RequestContext

OPTS = [
    cfg.StrOpt("agent_topic", default="stratus-volume-agent",
               help="RPC topic the volume agents listen on (server <host>@<backend>)."),
    cfg.StrOpt("server_topic", default="stratus-volume",
               help="RPC topic the block storage service listens on for its agents."),
]
GROUP = "volume_rpc"


def register(conf: cfg.ConfigOpts) -> None:
    """Register [volume_rpc] (the service and every volume agent call this)."""
    if GROUP not in conf or "agent_topic" not in conf[GROUP]:
        conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]


class VolumeAgentAPI:
    """Service -> the volume agent serving one backend (``host@backend``)."""

    def __init__(self, conf: cfg.ConfigOpts):
        register(conf)
        self._client = messaging.rpc_client(conf, conf.volume_rpc.agent_topic)

    def _at(self, backend_host: str, timeout: float | None = None):
        return self._client.prepare(server=backend_host, timeout=timeout)

    def create_volume(self, ctx: RequestContext, backend_host: str,
                      volume: dict[str, Any]) -> None:
        """Cast: create the volume (blank, or from image/snapshot/volume); reports
        ``volume_update`` status available | error."""
        self._at(backend_host).cast(ctx, "create_volume", volume=volume)

    def delete_volume(self, ctx: RequestContext, backend_host: str, volume_id: str) -> None:
        """Cast: unexport and remove the volume's data; reports ``volume_deleted``."""
        self._at(backend_host).cast(ctx, "delete_volume", volume_id=volume_id)

    def extend_volume(self, ctx: RequestContext, backend_host: str, volume_id: str,
                      new_size: int) -> None:
        """Cast: grow the volume to new_size GiB; reports ``volume_update``."""
        self._at(backend_host).cast(ctx, "extend_volume", volume_id=volume_id,
                                    new_size=new_size)

    def create_snapshot(self, ctx: RequestContext, backend_host: str, snapshot_id: str,
                        volume_id: str) -> None:
        """Cast: reports ``snapshot_update`` status available | error."""
        self._at(backend_host).cast(ctx, "create_snapshot", snapshot_id=snapshot_id,
                                    volume_id=volume_id)

    def delete_snapshot(self, ctx: RequestContext, backend_host: str,
                        snapshot_id: str) -> None:
        """Cast: reports ``snapshot_deleted``."""
        self._at(backend_host).cast(ctx, "delete_snapshot", snapshot_id=snapshot_id)

    def initialize_connection(self, ctx: RequestContext, backend_host: str, volume_id: str,
                              connector: dict[str, Any]) -> dict[str, Any]:
        """Call: export the volume to connector (target + LUN + CHAP); connection_info."""
        return self._at(backend_host, timeout=60).call(
            ctx, "initialize_connection", volume_id=volume_id, connector=connector)

    def terminate_connection(self, ctx: RequestContext, backend_host: str, volume_id: str,
                             connector: dict[str, Any]) -> None:
        """Call: remove the export made for connector (idempotent)."""
        self._at(backend_host, timeout=60).call(
            ctx, "terminate_connection", volume_id=volume_id, connector=connector)

    def copy_volume_to_image(self, ctx: RequestContext, backend_host: str, volume_id: str,
                             image: dict[str, Any]) -> None:
        """Cast: upload the volume's data as image["id"] (disk_format raw|qcow2)."""
        self._at(backend_host).cast(ctx, "copy_volume_to_image", volume_id=volume_id,
                                    image=image)

    def backup_volume(self, ctx: RequestContext, backend_host: str, backup_id: str,
                      volume_id: str) -> None:
        """Cast: store the volume's data as backup backup_id; reports ``backup_update``."""
        self._at(backend_host).cast(ctx, "backup_volume", backup_id=backup_id,
                                    volume_id=volume_id)

    def restore_backup(self, ctx: RequestContext, backend_host: str, backup_id: str,
                       volume_id: str) -> None:
        """Cast: write backup backup_id into volume volume_id; reports both updates."""
        self._at(backend_host).cast(ctx, "restore_backup", backup_id=backup_id,
                                    volume_id=volume_id)

    def delete_backup(self, ctx: RequestContext, backend_host: str, backup_id: str) -> None:
        """Cast: remove a backup's stored data; reports ``backup_deleted``."""
        self._at(backend_host).cast(ctx, "delete_backup", backup_id=backup_id)


class VolumeServerAPI:
    """Volume agents -> the block storage service."""

    def __init__(self, conf: cfg.ConfigOpts):
        register(conf)
        self._client = messaging.rpc_client(conf, conf.volume_rpc.server_topic)

    def report_state(self, ctx: RequestContext, host: str, binary: str,
                     backend: str) -> None:
        """Cast: heartbeat (``openstack volume service list``)."""
        self._client.cast(ctx, "report_state", host=host, binary=binary, backend=backend)

    def report_capacity(self, ctx: RequestContext, backend_host: str,
                        stats: dict[str, Any]) -> None:
        """Cast: {"volume_backend_name", "total_capacity_gb", "free_capacity_gb",
        "provisioned_capacity_gb", "max_over_subscription_ratio",
        "thin_provisioning_support", "storage_protocol": "iSCSI"}."""
        self._client.cast(ctx, "report_capacity", backend_host=backend_host, stats=stats)

    def volumes_on_backend(self, ctx: RequestContext,
                           backend_host: str) -> list[dict[str, Any]]:
        """Call: every volume and snapshot the service places on backend_host (recently
        deleted ones marked), with the exports that should exist:
        [{"id", "kind": "volume" | "snapshot", "status", "deleted", "exports":
        [connector]}]. For start-up reconciliation: orphans removed, exports re-ensured."""
        return self._client.call(ctx, "volumes_on_backend", backend_host=backend_host)

    def volume_update(self, ctx: RequestContext, volume_id: str, updates: dict[str, Any],
                      expected_status: list[str] | None = None) -> dict[str, Any] | None:
        """Call: set status/size/provider_location...; guarded by expected_status; None
        when the guard failed (the volume was deleted meanwhile: undo)."""
        return self._client.call(ctx, "volume_update", volume_id=volume_id, updates=updates,
                                 expected_status=expected_status)

    def volume_deleted(self, ctx: RequestContext, volume_id: str) -> None:
        self._client.cast(ctx, "volume_deleted", volume_id=volume_id)

    def snapshot_update(self, ctx: RequestContext, snapshot_id: str,
                        updates: dict[str, Any]) -> None:
        self._client.cast(ctx, "snapshot_update", snapshot_id=snapshot_id, updates=updates)

    def snapshot_deleted(self, ctx: RequestContext, snapshot_id: str) -> None:
        self._client.cast(ctx, "snapshot_deleted", snapshot_id=snapshot_id)

    def backup_update(self, ctx: RequestContext, backup_id: str,
                      updates: dict[str, Any]) -> None:
        self._client.cast(ctx, "backup_update", backup_id=backup_id, updates=updates)

    def backup_deleted(self, ctx: RequestContext, backup_id: str) -> None:
        self._client.cast(ctx, "backup_deleted", backup_id=backup_id)

    def image_uploaded(self, ctx: RequestContext, volume_id: str, image_id: str,
                       error: str | None = None) -> None:
        """Cast: copy_volume_to_image finished (the volume goes back to its status)."""
        self._client.cast(ctx, "image_uploaded", volume_id=volume_id, image_id=image_id,
                          error=error)
