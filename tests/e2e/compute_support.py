"""Helpers for the compute end-to-end tests: waiting, and libvirt's own view of guests.

The tests run as root on the all-in-one host, so they ask libvirt directly (``virsh``)
what a server really is, instead of trusting the API's answer.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

LIBVIRT_URI = os.environ.get("STRATUS_TEST_LIBVIRT_URI", "qemu:///system")
INSTANCES_PATH = os.environ.get("STRATUS_INSTANCES_PATH", "/var/lib/stratus/instances")
RUN_DIR = os.environ.get("STRATUS_RUN_DIR", "/run/stratus")
BOOT_TIMEOUT = 240  # s from ACTIVE to the guest's ready line under TCG on a busy host


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 180,
             interval: float = 1.0) -> T:
    """Poll probe until it returns something truthy; fail with what after timeout."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def virsh(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["virsh", "-c", LIBVIRT_URI, *args], capture_output=True,
                          text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def domain(server_id: str) -> str:
    return f"instance-{server_id}"


def domain_state(server_id: str) -> str | None:
    """libvirt's state of the server's domain ("running", "shut off", "paused"), or None."""
    proc = subprocess.run(["virsh", "-c", LIBVIRT_URI, "domstate", domain(server_id)],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def has_managed_save(server_id: str) -> bool:
    info = virsh("dominfo", domain(server_id))
    return bool(re.search(r"^Managed save:\s+yes", info, re.MULTILINE))


def domain_size(server_id: str) -> tuple[int, int]:
    """(memory MiB, vCPUs) from the domain's live definition."""
    root = ET.fromstring(virsh("dumpxml", domain(server_id)))
    memory_kib = int(root.findtext("memory"))
    return memory_kib // 1024, int(root.findtext("vcpu"))


def root_disk_virtual_size(server_id: str) -> int:
    """Virtual size in bytes of the server's root disk, read by qemu-img."""
    path = os.path.join(INSTANCES_PATH, server_id, "disk")
    info = subprocess.run(["qemu-img", "info", "-U", "--output=json", path],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    return int(re.search(r'"virtual-size":\s*(\d+)', info).group(1))


def qemu_running(server_id: str) -> bool:
    """A QEMU process whose command line names this domain exists."""
    proc = subprocess.run(["pgrep", "-f", f"guest={domain(server_id)}"], capture_output=True,
                          text=True, check=False)
    return proc.returncode == 0


def leftovers(server_id: str) -> list[str]:
    """What a deleted server left on the host: a domain or its files."""
    found = []
    if domain_state(server_id) is not None:
        found.append(f"domain {domain(server_id)}")
    if os.path.exists(os.path.join(INSTANCES_PATH, server_id)):
        found.append(f"directory {INSTANCES_PATH}/{server_id}")
    return found


def compute_agent_pid() -> int | None:
    """PID of the running compute agent under tools/lib/supervise.sh, if supervised."""
    try:
        with open(os.path.join(RUN_DIR, "stratus-compute-agent.child.pid")) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None
