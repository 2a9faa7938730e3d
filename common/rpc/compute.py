"""RPC to the compute agents (topic ``[compute_rpc] topic``, one server per host).

Sent by the conductor (every workflow step) and by the API (read-only calls: console
output and console connection details). Served by
``agents.compute.manager.ComputeManager`` on the host named in each call.

An *instance spec* is the complete description of an instance as the agent needs it;
the conductor builds it from the database, the agent turns it into
``agents.compute.model.Instance`` (``Instance.from_spec``)::

    {"uuid": str, "name": str, "project_id": str, "user_id": str,
     "hostname": str | None, "availability_zone": str | None,
     "config_drive": bool, "user_data": str | None (base64, as the API got it),
     "public_keys": {key_name: public_key}, "metadata": {str: str},
     "launch_index": int,
     "flavor": {"name": str, "memory_mb": int, "vcpus": int, "root_gb": int},
     "image": {"id": str, "disk_format": str, "os_hash_algo": str | None,
               "os_hash_value": str | None, "checksum": str | None}
              | None (volume-backed: the volume with boot_index 0 is the root disk),
     "vifs": [{"id", "mac", "type", "bridge", "mtu", "network_id", "devname",
               "network_name", "fixed_ips": [{"subnet_id", "ip_address", "version"}]}],
     "network_data": {network_data.json, as the metadata service serves it} | absent,
     "volumes": [{"volume_id": str, "device": "vda" | "vdb"..., "boot_index": int | None,
                  "connection_info": {connection_info: common.rpc.volume},
                  "initiator": str | None}],

Every cast names the instance's uuid; the agent reports progress and results back
through ``common.rpc.conductor`` (it never writes the database).
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import messaging
from common.context import RequestContext


class ComputeAPI:
    """Client side of the compute agent's RPC interface."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._client = messaging.rpc_client(conf, conf.compute_rpc.topic)

    def _host(self, host: str, timeout: float | None = None):
        return self._client.prepare(server=host, timeout=timeout)

    # ------------------------------------------------------------- workflows (casts)
    def build_and_run_instance(self, ctx: RequestContext, host: str, spec: dict[str, Any],
                               attempt: int = 1) -> None:
        """Cast: create disks, define and start the domain. Reports via the conductor:
        ``instance_update`` (task spawning -> ACTIVE) or ``build_failed``."""
        self._host(host).cast(ctx, "build_and_run_instance", spec=spec, attempt=attempt)

    def terminate_instance(self, ctx: RequestContext, host: str, instance_uuid: str) -> None:
        """Cast: destroy the domain and its files; reports ``instance_deleted``."""
        self._host(host).cast(ctx, "terminate_instance", instance_uuid=instance_uuid)

    def power_action(self, ctx: RequestContext, host: str, instance_uuid: str,
                     action: str) -> None:
        """Cast: action is one of stop, start, reboot_soft, reboot_hard, pause, unpause,
        suspend, resume. Reports ``instance_update`` with the new states."""
        self._host(host).cast(ctx, "power_action", instance_uuid=instance_uuid,
                              action=action)

    def rebuild_instance(self, ctx: RequestContext, host: str, spec: dict[str, Any]) -> None:
        """Cast: replace the root disk with a fresh one from spec's image, keep the rest."""
        self._host(host).cast(ctx, "rebuild_instance", spec=spec)

    def snapshot_instance(self, ctx: RequestContext, host: str, instance_uuid: str,
                          image_id: str) -> None:
        """Cast: copy the root disk (flattened) and upload it as image_id's data."""
        self._host(host).cast(ctx, "snapshot_instance", instance_uuid=instance_uuid,
                              image_id=image_id)

    def resize_instance(self, ctx: RequestContext, host: str, spec: dict[str, Any],
                        migration_uuid: str) -> None:
        """Cast: move the instance to spec's (new) flavor on this host, keeping what a
        revert needs; reports ``resize_finished`` (instance then VERIFY_RESIZE)."""
        self._host(host).cast(ctx, "resize_instance", spec=spec,
                              migration_uuid=migration_uuid)

    def confirm_resize(self, ctx: RequestContext, host: str, instance_uuid: str,
                       migration_uuid: str) -> None:
        """Cast: drop what was kept for a revert."""
        self._host(host).cast(ctx, "confirm_resize", instance_uuid=instance_uuid,
                              migration_uuid=migration_uuid)

    def revert_resize(self, ctx: RequestContext, host: str, spec: dict[str, Any],
                      migration_uuid: str) -> None:
        """Cast: go back to spec's (old) flavor and the disk kept before the resize."""
        self._host(host).cast(ctx, "revert_resize", spec=spec, migration_uuid=migration_uuid)

    def sync_instances(self, ctx: RequestContext, host: str) -> None:
        """Cast: run the start-up reconciliation again (orphans, power states)."""
        self._host(host).cast(ctx, "sync_instances")

    # ------------------------------------------------------------- ports (calls)
    def attach_interface(self, ctx: RequestContext, host: str, instance_uuid: str,
                         vif: dict[str, Any], timeout: float | None = None) -> None:
        """Call: hot-plug vif (a spec vif) into the instance, persistently and live when
        it runs; returns once the device is there (a no-op if it already is)."""
        self._host(host, timeout).call(ctx, "attach_interface", instance_uuid=instance_uuid,
                                       vif=vif)

    def detach_interface(self, ctx: RequestContext, host: str, instance_uuid: str,
                         vif: dict[str, Any], timeout: float | None = None) -> None:
        """Call: hot-unplug vif; returns once a running guest released it (a no-op if
        the instance does not have it)."""
        self._host(host, timeout).call(ctx, "detach_interface", instance_uuid=instance_uuid,
                                       vif=vif)

    # ----------------------------------------------------------- volumes (calls)
    def attach_volume(self, ctx: RequestContext, host: str, instance_uuid: str,
                      volume: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Call: plug volume (a spec volume, its CHAP secret stored in libvirt) into the
        instance, persistently and live when it runs; returns ``{"device": "vdX"}``,
        the device it really got (a no-op answering the same if it is already there)."""
        return self._host(host, timeout).call(ctx, "attach_volume",
                                              instance_uuid=instance_uuid, volume=volume)

    def detach_volume(self, ctx: RequestContext, host: str, instance_uuid: str,
                      volume_id: str, timeout: float | None = None) -> None:
        """Call: unplug the volume; returns once a running guest released it, and its
        CHAP secret is gone unless another guest here uses the volume (a no-op if the
        instance does not have it)."""
        self._host(host, timeout).call(ctx, "detach_volume", instance_uuid=instance_uuid,
                                       volume_id=volume_id)

    # -------------------------------------------------------------------- reads (calls)
    def get_console_output(self, ctx: RequestContext, host: str, instance_uuid: str,
                           length: int | None = None) -> str:
        """Call: the tail of the serial console log (length lines; None = all kept)."""
        return self._host(host, timeout=30).call(ctx, "get_console_output",
                                                  instance_uuid=instance_uuid, length=length)

    def get_console_endpoint(self, ctx: RequestContext, host: str, instance_uuid: str,
                             console_type: str) -> dict[str, Any]:
        """Call: where the console proxy connects for console_type (novnc | serial):
        ``{"host": str, "port": int}``."""
        return self._host(host, timeout=30).call(ctx, "get_console_endpoint",
                                                  instance_uuid=instance_uuid,
                                                  console_type=console_type)
