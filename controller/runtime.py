"""What a service function needs besides its arguments: config, database, notifier."""

from __future__ import annotations

import dataclasses
import functools
import logging

from oslo_config import cfg

from controller.db.base import Database, get_database

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Runtime:
    """Passed explicitly to every service function, so tests can build their own."""

    conf: cfg.ConfigOpts
    db: Database

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> Runtime:
        return cls(conf=conf, db=get_database(conf))

    @functools.cached_property
    def notifier(self):
        from common import messaging

        return messaging.notifier(self.conf, publisher_id=f"stratus.{self.conf.host}")

    # RPC clients, made on first use; tests replace them with recorders by assignment.
    @functools.cached_property
    def conductor_api(self):
        from common.rpc.conductor import ConductorAPI

        return ConductorAPI(self.conf)

    @functools.cached_property
    def compute_api(self):
        from common.rpc.compute import ComputeAPI

        return ComputeAPI(self.conf)

    @functools.cached_property
    def scheduler_api(self):
        from controller.scheduler.rpcapi import SchedulerAPI

        return SchedulerAPI(self.conf)

    def notify(self, ctx, event_type: str, payload: dict) -> None:
        """Emit an info notification; a bus outage is logged, never fails the request."""
        if self.conf.messaging.notification_driver == "noop":
            return
        try:
            self.notifier.info(ctx, event_type, payload)
        except Exception:  # noqa: BLE001 - notifications are best effort by design
            LOG.warning("could not emit notification %s", event_type, exc_info=True)
