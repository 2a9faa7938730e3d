"""stratus-volume-agent: one process per host serving each configured backend.

Start-up, per backend ``<host>@<name>``: check the backend (directory, thin pool), then
reconcile it with what the block storage service says (:mod:`agents.volume.reconcile`;
the agent waits for the service rather than serve unreconciled), then start its RPC
server. Before that, copies a killed predecessor left running (``qemu-img``/``cp``
writing into our data) are stopped and the scratch directory is emptied. Then a plain
loop with jitter: heartbeats every ``[service] report_interval``, capacity reports every
``[volume] capacity_report_interval``. SIGTERM stops the RPC servers (in-flight work
finishes) and exits 0. ``--once`` does the start-up and one report pass, then exits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import random
import shutil
import signal
import sys
import threading
import time
from typing import Any

import oslo_messaging
from oslo_config import cfg

from agents.volume import clients as clients_mod
from agents.volume import conf as volume_conf
from agents.volume import reconcile
from agents.volume.backup import BackupService, MiB
from agents.volume.backup_stores import FileStore, SwiftStore
from agents.volume.chap import ChapKeys
from agents.volume.driver import VolumeDriver
from agents.volume.exception import VolumeAgentError
from agents.volume.manager import VolumeManager
from agents.volume.targets import TargetHelper
from common import log, messaging, processutils
from common.context import RequestContext
from common.rpc.volume import VolumeServerAPI

LOG = logging.getLogger(__name__)
BINARY = "stratus-volume-agent"
ONCE = cfg.BoolOpt("once", default=False, help="Reconcile, report once, and exit.")
COPY_TOOLS = ("qemu-img", "cp")


def make_driver(backend: volume_conf.BackendConf,
                execute=processutils.execute) -> VolumeDriver:
    """The backend's volume driver (``volume_driver``)."""
    if backend.volume_driver == "lvm":
        from agents.volume.lvm_driver import LvmDriver
        return LvmDriver(backend, execute)
    from agents.volume.file_driver import FileDriver
    return FileDriver(backend, execute)


def make_targets(backend: volume_conf.BackendConf, execute=processutils.execute,
                 rtslib: Any = None) -> TargetHelper:
    """The backend's iSCSI target helper (``target_helper``)."""
    if backend.target_helper == "lio":
        from agents.volume.lio import LioHelper
        return LioHelper(backend, rtslib)
    from agents.volume.tgt import TgtHelper
    return TgtHelper(backend, execute)


def make_backups(conf: cfg.ConfigOpts, token_provider) -> BackupService | None:
    """The backup service of ``[backup] driver`` (None: swift without a token source)."""
    opts = conf.backup
    if opts.driver == "swift":
        if token_provider is None:
            LOG.warning("[backup] driver = swift but no service token source: backups are "
                        "disabled")
            return None
        store = SwiftStore(token_provider, opts.swift_container, opts.swift_timeout)
    else:
        store = FileStore(opts.file_path)
    return BackupService(store, opts.chunk_size_mb * MiB, opts.compression)


@dataclasses.dataclass
class Backend:
    conf: volume_conf.BackendConf
    host: str
    driver: VolumeDriver
    targets: TargetHelper
    manager: VolumeManager
    rpc: Any = None


class VolumeAgent:
    """Every backend of this host, their RPC servers and their reports."""

    def __init__(self, conf: cfg.ConfigOpts, *, clients: clients_mod.Clients | None = None,
                 server_api: Any = None, execute=processutils.execute, rtslib: Any = None):
        self.conf = conf
        self.server = server_api or VolumeServerAPI(conf)
        clients = clients or clients_mod.from_conf(conf)
        self.chap = ChapKeys(conf.volume.chap_key_file)
        backups = make_backups(conf, clients.token_provider)
        self.stop = threading.Event()
        self._next_capacity = 0.0
        self.backends: list[Backend] = []
        for name in conf.volume.enabled_backends:
            backend = volume_conf.backend(conf, name)
            host = f"{conf.host}@{name}"
            driver = make_driver(backend, execute)
            targets = make_targets(backend, execute, rtslib)
            manager = VolumeManager(
                host, driver, targets, self.server, self.chap, backups=backups,
                fetch=clients.fetch, upload=clients.upload,
                conversion_dir=conf.volume.image_conversion_dir,
                conversion_timeout=conf.volume.image_conversion_timeout)
            self.backends.append(Backend(backend, host, driver, targets, manager))

    # ------------------------------------------------------------- start-up
    def start(self, serve: bool = True, wait_for_service: bool = True) -> None:
        """Clean up after a predecessor, reconcile every backend, start serving.

        :raises VolumeAgentError: a backend is unusable (the message says why).
        """
        self._stop_stray_copies()
        self._empty_scratch()
        for backend in self.backends:
            backend.driver.check_setup()
            self._reconcile(backend, wait_for_service)
            if serve and not self.stop.is_set():
                backend.rpc = messaging.rpc_server(self.conf, self.conf.volume_rpc.agent_topic,
                                                   [backend.manager], server=backend.host)
                backend.rpc.start()
                LOG.info("serving %s (%s driver, %s target)", backend.host,
                         backend.conf.volume_driver, backend.conf.target_helper)

    def _reconcile(self, backend: Backend, wait: bool) -> None:
        delay = 1.0
        while not self.stop.is_set():
            ctx = RequestContext.admin()
            try:
                expected = self.server.volumes_on_backend(ctx, backend.host)
            except oslo_messaging.MessagingException as exc:
                if not wait:
                    LOG.error("reconciliation of %s skipped: the block storage service "
                              "did not answer (%s)", backend.host, exc)
                    return
                LOG.warning("waiting for the block storage service to list %s: %s",
                            backend.host, exc)
                self.stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            reconcile.converge(ctx, list(expected or []), backend.driver, backend.targets,
                               self.chap, self.server, self.conf.volume.remove_orphans)
            return

    def _stop_stray_copies(self) -> None:
        """Kill qemu-img/cp processes writing into our directories: a SIGKILLed agent's
        children outlive it and would keep writing into data reconciliation removes."""
        roots = [os.path.abspath(self.conf.volume.image_conversion_dir) + "/"]
        for backend in self.backends:
            roots.append(os.path.dirname(backend.driver.local_path(
                "00000000-0000-0000-0000-000000000000")) + "/")
        for pid, argv in _processes():
            if os.path.basename(argv[0]) in COPY_TOOLS and any(
                    arg.startswith(root) for arg in argv[1:] for root in roots):
                LOG.warning("stopping stray copy %d: %s", pid, " ".join(argv))
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def _empty_scratch(self) -> None:
        scratch = self.conf.volume.image_conversion_dir
        os.makedirs(scratch, mode=0o700, exist_ok=True)
        for name in os.listdir(scratch):
            path = os.path.join(scratch, name)
            LOG.info("removing leftover scratch file %s", path)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    # ---------------------------------------------------------------- loop
    def run_once(self) -> dict[str, Any]:
        """One report pass: heartbeats, and capacity when due."""
        ctx = RequestContext.admin()
        stats: dict[str, Any] = {"heartbeats": 0, "capacity": 0}
        capacity_due = time.monotonic() >= self._next_capacity
        for backend in self.backends:
            try:
                self.server.report_state(ctx, self.conf.host, BINARY, backend.conf.name)
                stats["heartbeats"] += 1
                if capacity_due:
                    self.server.report_capacity(ctx, backend.host, self.capacity(backend))
                    stats["capacity"] += 1
            except (oslo_messaging.MessagingException, VolumeAgentError) as exc:
                LOG.warning("report for %s failed: %s", backend.host, exc)
        if capacity_due:
            self._next_capacity = time.monotonic() + self.conf.volume.capacity_report_interval
        return stats

    def capacity(self, backend: Backend) -> dict[str, Any]:
        """The contract's capacity report of one backend.

        :raises BackendError: the backend cannot be inspected.
        """
        cap = backend.driver.capacity()
        return {"volume_backend_name": backend.conf.volume_backend_name,
                "total_capacity_gb": cap.total_gb, "free_capacity_gb": cap.free_gb,
                "provisioned_capacity_gb": cap.provisioned_gb,
                "max_over_subscription_ratio": backend.conf.max_over_subscription_ratio,
                "reserved_percentage": backend.conf.reserved_percentage,
                "thin_provisioning_support": True, "storage_protocol": "iSCSI",
                "driver": backend.conf.volume_driver}

    def run_forever(self) -> None:
        """Report pass after pass until stop is set (report_interval ±10%)."""
        interval = self.conf.service.report_interval
        while not self.stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - log and try again next pass
                LOG.exception("report pass failed")
            self.stop.wait(interval * random.uniform(0.9, 1.1))

    def shutdown(self) -> None:
        """Stop taking messages, let in-flight work finish, close the transports."""
        self.stop.set()
        for backend in self.backends:
            if backend.rpc is not None:
                backend.rpc.stop()
                backend.rpc.wait()
                backend.rpc = None
        messaging.cleanup()


def _processes() -> list[tuple[int, list[str]]]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdecimal() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = [part.decode(errors="replace")
                        for part in handle.read().split(b"\0") if part]
        except OSError:
            continue
        if argv:
            found.append((int(entry), argv))
    return found


def main(argv: list[str] | None = None, clients: clients_mod.Clients | None = None) -> int:
    """Entry point of stratus-volume-agent (tests may hand in their own clients)."""
    conf = volume_conf.make(sys.argv[1:] if argv is None else argv, BINARY, cli_opts=[ONCE])
    log.setup(conf, BINARY)
    agent = VolumeAgent(conf, clients=clients)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop.set())
    signal.signal(signal.SIGINT, lambda *_: agent.stop.set())
    try:
        agent.start(serve=not conf.once, wait_for_service=not conf.once)
        if conf.once:
            LOG.info("%s: %s", BINARY, agent.run_once())
        else:
            agent.run_forever()
    except VolumeAgentError as exc:
        LOG.error("%s cannot run: %s", BINARY, exc)
        return 1
    finally:
        agent.shutdown()
    return 0
