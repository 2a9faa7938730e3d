"""The private all-in-one cloud of :mod:`tests.e2e.private_cloud`, plus block storage.

``python -m tests.e2e.private_volume_cloud up DIR`` brings up that cloud and then a
``stratus-volume-agent`` of its own (file backend in ``DIR/volumes``, the host's tgtd
with a target prefix no other agent uses, targets on the compute host's address, which
is where QEMU connects from), waits until ``volume service list`` shows it up, and
adds to ``DIR/env`` what ``tests/e2e/test_volumes.py`` reads (STRATUS_VOLUME_PATH,
STRATUS_TARGET_PREFIX). ``down DIR`` also removes every tgt target with that prefix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.e2e import private_cloud

AGENT = "stratus-volume-agent"


def _address() -> str:
    """The compute agent's own answer to "which address is this host" (host_ip)."""
    from agents.compute.daemon import host_ip

    return host_ip("stratus-e2e-no-such-host.invalid")


def up(root: str) -> None:
    private_cloud.up(root)
    settings = private_cloud._settings(root)
    prefix = f"iqn.2026-12.org.stratus.e2e{settings['suffix']}:"
    os.makedirs(f"{root}/volumes", mode=0o750)
    os.makedirs(f"{root}/backups", mode=0o750)
    conf = f"{root}/stratus.conf"
    with open(conf, "a") as handle:
        handle.write(private_cloud._ini({
            "volume": {"enabled_backends": "file", "file_path": f"{root}/volumes",
                       "target_prefix": prefix, "target_ip_address": _address(),
                       "capacity_report_interval": 5},
            "backup": {"driver": "file", "file_path": f"{root}/backups"}}))
    env = {**os.environ, "STRATUS_RUN_DIR": f"{root}/run", "STRATUS_LOG_DIR": f"{root}/log"}
    subprocess.Popen(["bash", private_cloud.SUPERVISE, AGENT,
                      f"{private_cloud.VENV_BIN}/{AGENT}", "--config-file", conf], env=env,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        services = json.loads(private_cloud._cli(root, "stratus-admin", "volume", "service",
                                                 "list", "-f", "json"))
        if any(s["State"] == "up" for s in services):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{AGENT} did not report within 90 s; see {root}/log")
        time.sleep(1)
    with open(f"{root}/env", "a") as handle:
        handle.write(f"export STRATUS_VOLUME_PATH={root}/volumes\n"
                     f"export STRATUS_TARGET_PREFIX={prefix}\n"
                     f"export STRATUS_VOLUME_CONVERSION_DIR={root}/state/volume-conversion\n")
    print(f"private cloud with block storage up: source {root}/env")


def down(root: str) -> None:
    settings = private_cloud._settings(root)
    prefix = f"iqn.2026-12.org.stratus.e2e{settings['suffix']}:"
    private_cloud._stop_daemons(root)
    from agents.volume.tgt import TgtHelper
    from tests.unit.volume_agent.helpers import backend_conf

    helper = TgtHelper(backend_conf(target_prefix=prefix, target_ip_address="127.0.0.1"))
    for export in helper.list_exports():  # only targets named with this cloud's prefix
        helper.remove_export(export.volume_id)
    private_cloud.down(root)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("up", "down"):
        print(__doc__)
        return 2
    (up if argv[0] == "up" else down)(os.path.abspath(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
