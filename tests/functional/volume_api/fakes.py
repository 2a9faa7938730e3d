"""A recording stand-in for the volume agents (VolumeAgentAPI).

Every call is recorded. With ``auto`` on, each cast is answered at once the way a real
agent answers, through the real VolumeRpcManager (so the service's handling of the
reports is exercised too); with it off, the test plays the agent itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from controller.volume.rpc import VolumeRpcManager

STATS = {"volume_backend_name": "file", "total_capacity_gb": 100.0,
         "free_capacity_gb": 100.0, "provisioned_capacity_gb": 0.0,
         "max_over_subscription_ratio": 1.0, "thin_provisioning_support": False,
         "storage_protocol": "iSCSI"}


@dataclasses.dataclass
class Call:
    method: str
    backend: str
    args: dict[str, Any]


class FakeAgent:
    """Records casts and calls; answers them like an agent when auto is True."""

    def __init__(self, rt, auto: bool = True):
        self.rt = rt
        self.auto = auto
        self.calls: list[Call] = []
        self.manager = VolumeRpcManager(rt)
        self.fail_connections = False

    def _record(self, method: str, backend: str, **args: Any) -> None:
        self.calls.append(Call(method, backend, args))

    def names(self) -> list[str]:
        return [c.method for c in self.calls]

    def last(self, method: str) -> Call:
        return [c for c in self.calls if c.method == method][-1]

    def create_volume(self, ctx, backend_host, volume):
        self._record("create_volume", backend_host, volume=volume)
        if self.auto:
            self.manager.volume_update(ctx, volume["id"], {
                "status": "available", "provider_location": f"/fake/{volume['id']}"},
                ["creating", "downloading"])

    def delete_volume(self, ctx, backend_host, volume_id):
        self._record("delete_volume", backend_host, volume_id=volume_id)
        if self.auto:
            self.manager.volume_deleted(ctx, volume_id)

    def extend_volume(self, ctx, backend_host, volume_id, new_size):
        self._record("extend_volume", backend_host, volume_id=volume_id, new_size=new_size)
        if self.auto:
            self.manager.volume_update(ctx, volume_id, {"status": "available",
                                                        "size": new_size}, ["extending"])

    def create_snapshot(self, ctx, backend_host, snapshot_id, volume_id):
        self._record("create_snapshot", backend_host, snapshot_id=snapshot_id,
                     volume_id=volume_id)
        if self.auto:
            self.manager.snapshot_update(ctx, snapshot_id, {"status": "available"})

    def delete_snapshot(self, ctx, backend_host, snapshot_id):
        self._record("delete_snapshot", backend_host, snapshot_id=snapshot_id)
        if self.auto:
            self.manager.snapshot_deleted(ctx, snapshot_id)

    def initialize_connection(self, ctx, backend_host, volume_id, connector):
        self._record("initialize_connection", backend_host, volume_id=volume_id,
                     connector=connector)
        if self.fail_connections:
            import oslo_messaging

            raise oslo_messaging.MessagingTimeout("no answer")
        return {"driver_volume_type": "iscsi", "data": {
            "target_iqn": f"iqn.2010-10.org.openstack:volume-{volume_id}",
            "target_portal": "127.0.0.1:3260", "target_lun": 1, "auth_method": "CHAP",
            "auth_username": "user", "auth_password": "secret", "volume_id": volume_id,
            "access_mode": "rw"}}

    def terminate_connection(self, ctx, backend_host, volume_id, connector):
        self._record("terminate_connection", backend_host, volume_id=volume_id,
                     connector=connector)

    def copy_volume_to_image(self, ctx, backend_host, volume_id, image):
        self._record("copy_volume_to_image", backend_host, volume_id=volume_id, image=image)
        if self.auto:
            self.manager.image_uploaded(ctx, volume_id, image["id"])

    def backup_volume(self, ctx, backend_host, backup_id, volume_id):
        self._record("backup_volume", backend_host, backup_id=backup_id, volume_id=volume_id)
        if self.auto:
            self.manager.backup_update(ctx, backup_id, {"status": "available",
                                                        "object_count": 1})
            self.manager.volume_update(ctx, volume_id, {"status": "available"},
                                       ["backing-up"])

    def restore_backup(self, ctx, backend_host, backup_id, volume_id):
        self._record("restore_backup", backend_host, backup_id=backup_id, volume_id=volume_id)
        if self.auto:
            self.manager.volume_update(ctx, volume_id, {"status": "available"},
                                       ["restoring-backup"])
            self.manager.backup_update(ctx, backup_id, {"status": "available"})

    def delete_backup(self, ctx, backend_host, backup_id):
        self._record("delete_backup", backend_host, backup_id=backup_id)
        if self.auto:
            self.manager.backup_deleted(ctx, backup_id)


def add_backend(rt, host: str = "node1", backend: str = "file", **stats: Any) -> str:
    """Heartbeat and capacity of a backend, as its agent would send them; its host@backend."""
    manager = VolumeRpcManager(rt)
    manager.report_state(None, host, "stratus-volume-agent", backend)
    manager.report_capacity(None, f"{host}@{backend}",
                            {**STATS, "volume_backend_name": backend, **stats})
    return f"{host}@{backend}"
