"""stratus-compute-agent: the compute agent daemon (a plain loop, STYLE item 7).

Start-up: build the driver (libvirt, base images fetched through the image API as the
service user), reconcile this host with the controller (``sync.HostSync``), then serve
``[compute_rpc] topic`` as server ``conf.host``. Then loop, each job when it is due
(with jitter, so the hosts of a cloud do not all report at the same moment):

- heartbeat (``report_state``) every ``[service] report_interval``;
- inventory (``update_compute_node``) every ``[compute] resource_report_interval``;
- the start-up reconciliation again, until it has once succeeded;
- every guest's power state every ``[compute] sync_power_state_interval``;
- image cache cleanup every ``[compute] image_cache_manager_interval``.

``--once`` reconciles and runs every job once, without serving RPC (for tests).
SIGTERM/SIGINT: stop taking messages, let in-flight operations finish, exit 0.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from agents.compute import conf as compute_conf
from agents.compute.driver import ComputeDriver
from agents.compute.locks import InstanceLocks
from agents.compute.manager import ComputeManager, Upload
from agents.compute.reporter import Reporter
from common import log, messaging, processutils
from common.clients.identity import ServiceAuth
from common.clients.image import ImageClient
from common.context import RequestContext
from common.rpc.conductor import ConductorAPI

LOG = logging.getLogger(__name__)
PROGRAM = "stratus-compute-agent"
ONCE = cfg.BoolOpt("once", default=False,
                   help="Reconcile and run every periodic job once, then exit.")
JITTER = 0.1  # each interval varies by +-10%


class ComputeAgent:
    """The agent: driver, manager, RPC server and periodic jobs."""

    def __init__(self, conf: cfg.ConfigOpts, driver: ComputeDriver | None = None,
                 conductor: ConductorAPI | None = None, upload: Upload | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.conf = conf
        self.stop = threading.Event()
        self._clock = clock
        conductor = conductor or ConductorAPI(conf)
        if driver is None or upload is None:
            images = ImageClient(conf, ServiceAuth(conf))
            upload = upload or images.upload
            driver = driver or _libvirt_driver(conf, images.download, conductor)
        self.driver = driver
        self.reporter = Reporter(conductor, conf.host)
        self.manager = ComputeManager(conf, driver, self.reporter, upload, InstanceLocks())
        self.server: Any = None
        self.reconciled = False
        opts = conf.compute
        self.jobs: dict[str, tuple[float, Callable[[RequestContext], Any]]] = {
            "heartbeat": (conf.service.report_interval, self.heartbeat),
            "resources": (opts.resource_report_interval, self.report_resources),
            "reconcile": (conf.service.report_interval, self.reconcile),
            "power_states": (opts.sync_power_state_interval, self.sync_power_states),
            "image_cache": (opts.image_cache_manager_interval, self.cleanup_image_cache),
        }
        self._due = dict.fromkeys(self.jobs, 0.0)

    # ------------------------------------------------------------------ jobs
    def heartbeat(self, ctx: RequestContext) -> None:
        self.reporter.conductor.report_state(ctx, self.conf.host, PROGRAM,
                                             self.conf.compute_rpc.topic)

    def report_resources(self, ctx: RequestContext) -> dict[str, Any]:
        resources = self.resources()
        self.reporter.conductor.update_compute_node(ctx, self.conf.host, resources)
        return resources

    def resources(self) -> dict[str, Any]:
        """HostResources plus host_ip, allocation ratios and reserved amounts."""
        opts = self.conf.compute
        resources: dict[str, Any] = dataclasses.asdict(self.driver.host_resources())
        resources.update(
            host_ip=opts.host_ip or host_ip(self.conf.host),
            hypervisor_hostname=self.conf.host,
            cpu_allocation_ratio=opts.cpu_allocation_ratio,
            ram_allocation_ratio=opts.ram_allocation_ratio,
            disk_allocation_ratio=opts.disk_allocation_ratio,
            reserved_host_memory_mb=opts.reserved_host_memory_mb,
            reserved_host_disk_gb=opts.reserved_host_disk_gb)
        return resources

    def reconcile(self, ctx: RequestContext) -> Any:
        if self.reconciled:
            return "done"
        stats = self.manager.sync.full_sync(ctx, startup=True)
        self.reconciled = stats is not None
        return stats

    def sync_power_states(self, ctx: RequestContext) -> int:
        return self.manager.sync.sync_power_states(ctx) if self.reconciled else 0

    def cleanup_image_cache(self, ctx: RequestContext) -> list[str]:
        opts = self.conf.compute
        if not opts.remove_unused_base_images:
            return []
        return self.driver.cleanup_image_cache(opts.remove_unused_original_minimum_age_seconds)

    # ------------------------------------------------------------------ loop
    def run_once(self, only_due: bool = False) -> dict[str, Any]:
        """Run every job (or only those due); a failing job is logged and retried."""
        results: dict[str, Any] = {}
        for name, (interval, job) in self.jobs.items():
            now = self._clock()
            if interval < 0 or (only_due and now < self._due[name]):
                continue
            ctx = RequestContext.admin()  # a request id per job run, for the logs
            try:
                results[name] = job(ctx)
            except Exception as error:  # noqa: BLE001 - the next run retries
                LOG.exception("%s failed; retrying in the next pass", name)
                results[name] = f"failed: {error}"
            self._due[name] = now + interval * random.uniform(1 - JITTER, 1 + JITTER)
        return results

    def run_forever(self) -> None:
        """Jobs as they fall due, until stop is set."""
        while not self.stop.is_set():
            self.run_once(only_due=True)
            wait = min(self._due[name] for name, (interval, _) in self.jobs.items()
                       if interval >= 0) - self._clock()
            self.stop.wait(max(0.5, wait))

    def start(self) -> None:
        """Reconcile (when the controller answers), then serve RPC."""
        ctx = RequestContext.admin()
        try:
            self.reconcile(ctx)
        except Exception:  # noqa: BLE001 - e.g. libvirtd down: the loop retries
            LOG.exception("start-up reconciliation failed; retrying from the loop")
        self._due["reconcile"] = 0.0
        self.server = messaging.rpc_server(self.conf, self.conf.compute_rpc.topic,
                                           [self.manager], server=self.conf.host)
        self.server.start()
        LOG.info("%s serving topic %s as %s", PROGRAM, self.conf.compute_rpc.topic,
                 self.conf.host)

    def shutdown(self) -> None:
        """Stop taking messages and wait for the operations in flight."""
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        LOG.info("%s stopped", PROGRAM)


def host_ip(hostname: str) -> str:
    """This host's address: what hostname resolves to, else the first global IPv4."""
    try:
        for *_, sockaddr in socket.getaddrinfo(hostname, None, socket.AF_INET):
            if not ipaddress.ip_address(sockaddr[0]).is_loopback:
                return str(sockaddr[0])
    except OSError:
        pass
    try:
        out = processutils.execute(["ip", "-j", "-4", "addr", "show", "scope", "global"])
        for link in json.loads(out):
            for addr in link.get("addr_info", []):
                return str(addr["local"])
    except (processutils.ProcessExecutionError, OSError, ValueError, KeyError):
        LOG.warning("cannot find this host's address; set [compute] host_ip")
    return "127.0.0.1"


def _libvirt_driver(conf: cfg.ConfigOpts, fetch, conductor: ConductorAPI) -> ComputeDriver:
    from agents.compute import vifs
    from agents.compute.libvirt_driver import LibvirtDriver

    # New guests wait (paused) until the OVS agent has wired their ports; the port
    # statuses come from the network service through the conductor.
    wait = vifs.port_waiter(lambda port_ids: conductor.port_statuses(
        RequestContext(), list(port_ids)))
    return LibvirtDriver.from_conf(conf, fetch, wait_for_ports=wait)


def main(argv: list[str] | None = None) -> int:
    """Entry point of stratus-compute-agent."""
    conf = compute_conf.make(sys.argv[1:] if argv is None else argv, PROGRAM,
                             cli_opts=[ONCE])
    log.setup(conf, PROGRAM)
    agent = ComputeAgent(conf)
    if conf.once:
        LOG.info("%s: %s", PROGRAM, agent.run_once())
        messaging.cleanup()
        return 0
    signal.signal(signal.SIGTERM, lambda *_: agent.stop.set())
    signal.signal(signal.SIGINT, lambda *_: agent.stop.set())
    agent.start()
    try:
        agent.run_forever()
    finally:
        agent.shutdown()
        messaging.cleanup()
    return 0
