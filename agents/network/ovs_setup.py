"""Start Open vSwitch on a host without systemd (CI, containers, the all-in-one).

Idempotent and safe to call from several processes at once (a lock file serialises
them): creates the database when missing, starts ovsdb-server and ovs-vswitchd when they
are not running, and waits until ``ovs-vsctl`` answers. The userspace (netdev) datapath
needs no kernel module, which is why this works on hosts where ``ovs-ctl start`` fails.

``python -m agents.network.ovs_setup`` does the same from a shell (tools/stack.sh).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time

from agents.network.exception import HostCommandError
from common import processutils

LOG = logging.getLogger(__name__)

RUN_DIR = "/var/run/openvswitch"
DB_SOCK = f"{RUN_DIR}/db.sock"
DB_FILE = "/etc/openvswitch/conf.db"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
LOG_DIR = "/var/log/openvswitch"
LOCK_FILE = "/tmp/stratus-ovs-start.lock"


def _pid_alive(pidfile: str) -> bool:
    try:
        with open(pidfile, encoding="ascii") as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _answers() -> bool:
    try:
        processutils.execute(["ovs-vsctl", "--timeout=5", "show"], timeout=10)
    except processutils.ProcessExecutionError:
        return False
    return True


def ensure_running(timeout: float = 30.0) -> None:
    """Make sure ovsdb-server and ovs-vswitchd run and answer.

    :raises HostCommandError: a daemon could not be started or did not answer in time.
    """
    if _answers() and _pid_alive(f"{RUN_DIR}/ovs-vswitchd.pid"):
        return
    os.makedirs(RUN_DIR, exist_ok=True)
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(os.path.dirname(DB_FILE), exist_ok=True)
    with open(LOCK_FILE, "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(os.path.realpath(DB_FILE)):
                LOG.info("creating the Open vSwitch database %s", DB_FILE)
                _run(["ovsdb-tool", "create", DB_FILE, SCHEMA])
            if not _pid_alive(f"{RUN_DIR}/ovsdb-server.pid"):
                LOG.info("starting ovsdb-server")
                _run(["ovsdb-server", DB_FILE, f"--remote=punix:{DB_SOCK}",
                      "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
                      "--pidfile", "--detach", f"--log-file={LOG_DIR}/ovsdb-server.log"])
                _run(["ovs-vsctl", "--no-wait", "init"])
            if not _pid_alive(f"{RUN_DIR}/ovs-vswitchd.pid"):
                LOG.info("starting ovs-vswitchd (userspace datapath)")
                _run(["ovs-vswitchd", f"unix:{DB_SOCK}", "--pidfile", "--detach",
                      f"--log-file={LOG_DIR}/ovs-vswitchd.log"])
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    deadline = time.monotonic() + timeout
    while not _answers():
        if time.monotonic() > deadline:
            raise HostCommandError(f"Open vSwitch did not answer within {timeout:.0f}s; "
                                   f"see {LOG_DIR}/*.log")
        time.sleep(0.2)


def _run(argv: list[str]) -> None:
    try:
        processutils.execute(argv)
    except processutils.ProcessExecutionError as exc:
        raise HostCommandError(f"cannot start Open vSwitch: {exc}") from exc


if __name__ == "__main__":  # pragma: no cover - a shell entry for stack.sh
    logging.basicConfig(level=logging.INFO)
    ensure_running()
