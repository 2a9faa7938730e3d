"""The tgt target helper: user-space ``tgtd`` driven through ``tgtadm`` argv lists.

tgtd numbers its targets (tid); several processes may share one tgtd (agents of other
backends, tests), so a new target takes the lowest free tid under an exclusive host
lock and retries when another process took it in between. tgtd keeps its state in
memory only: after a tgtd restart the agent's start-up reconciliation re-creates the
exports the block storage service expects. Credentials are bound as tgt "incoming
user" accounts named after the volume; the access list holds initiator addresses.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from collections.abc import Callable, Iterator

from agents.volume import names
from agents.volume.chap import Credentials
from agents.volume.conf import BackendConf
from agents.volume.exception import TargetError
from agents.volume.targets import LUN, Connector, Export, TargetHelper
from common import processutils

LOG = logging.getLogger(__name__)
LOCK_FILE = "/run/lock/stratus-tgtadm.lock"
_TARGET_RE = re.compile(r"^Target (\d+): (\S+)$")
_MAX_TID_ATTEMPTS = 20
# iSCSI session limits the target offers (initiators negotiate down to theirs). tgt's
# defaults (8 KiB data segments, 64 KiB first burst, R2T before any write data) tripled
# QEMU's write throughput when raised (benchmarks/volume/README.md).
SESSION_PARAMS = (("MaxRecvDataSegmentLength", "262144"),
                  ("MaxXmitDataSegmentLength", "262144"),
                  ("FirstBurstLength", "262144"), ("MaxBurstLength", "1048576"),
                  ("InitialR2T", "No"))
Execute = Callable[..., str]


class TgtTarget:
    """One target as ``tgtadm --op show`` describes it."""

    def __init__(self, tid: int, iqn: str):
        self.tid = tid
        self.iqn = iqn
        self.luns: dict[int, str] = {}
        self.accounts: list[str] = []
        self.acl: list[str] = []
        self.sessions = 0


def parse_show(text: str) -> dict[str, TgtTarget]:
    """``tgtadm --mode target --op show`` output as {iqn: TgtTarget}."""
    targets: dict[str, TgtTarget] = {}
    current: TgtTarget | None = None
    section = ""
    lun: int | None = None
    for raw in text.splitlines():
        line = raw.strip()
        match = _TARGET_RE.match(raw)
        if match:
            current = TgtTarget(int(match.group(1)), match.group(2))
            targets[current.iqn] = current
            section, lun = "", None
            continue
        if current is None or not line:
            continue
        if line.endswith(":") and raw.startswith("    ") and not raw.startswith("     "):
            section = line[:-1]  # "I_T nexus information", "LUN information", ...
            continue
        if section == "LUN information":
            if line.startswith("LUN: "):
                lun = int(line.split(":", 1)[1])
            elif line.startswith("Backing store path:") and lun is not None:
                path = line.split(":", 1)[1].strip()
                if path and path != "None":
                    current.luns[lun] = path
        elif section == "Account information":
            current.accounts.append(line.split()[0])
        elif section == "ACL information":
            current.acl.append(line)
        elif section == "I_T nexus information" and line.startswith("I_T nexus:"):
            current.sessions += 1
    return targets


class TgtHelper(TargetHelper):
    """Targets in the local tgtd."""

    def __init__(self, backend: BackendConf, execute: Execute = processutils.execute,
                 lock_file: str = LOCK_FILE):
        super().__init__(backend)
        self._execute = execute
        self._lock_file = lock_file

    def ensure_export(self, volume_id: str, path: str, credentials: Credentials,
                      connector: Connector | None = None) -> Export:
        iqn = self.iqn(volume_id)
        with self._locked():
            targets = self._show()
            target = targets.get(iqn)
            created = target is None
            if created:
                target = self._create_target(iqn, targets)
            try:
                self._converge(target, path, credentials, connector)
            except TargetError:
                if created:  # no half-made export left behind
                    self._delete(target, volume_id)
                raise
        LOG.info("exported volume %s as %s (allowed: %s)", volume_id, iqn,
                 ", ".join(target.acl) or "nobody")
        return Export(volume_id, iqn, path, frozenset(target.acl))

    def _converge(self, target: TgtTarget, path: str, credentials: Credentials,
                  connector: Connector | None) -> None:
        """LUN 1 = path, the CHAP account bound, connector's address allowed."""
        iqn = target.iqn
        if target.luns.get(LUN) != path:
            if LUN in target.luns:
                self._tgtadm(["--op", "delete", "--mode", "logicalunit", "--tid",
                              str(target.tid), "--lun", str(LUN)], f"replace LUN of {iqn}")
            self._tgtadm(["--op", "new", "--mode", "logicalunit", "--tid", str(target.tid),
                          "--lun", str(LUN), "--backing-store", path],
                         f"add {path} as LUN {LUN} of {iqn}")
            target.luns[LUN] = path
        if credentials.username not in target.accounts:
            self._ensure_account(credentials)
            self._tgtadm(["--op", "bind", "--mode", "account", "--tid", str(target.tid),
                          "--user", credentials.username], f"bind CHAP account to {iqn}",
                         ok=("already exists",))
        if connector is not None and connector.ip not in target.acl:
            self._tgtadm(["--op", "bind", "--mode", "target", "--tid", str(target.tid),
                          "--initiator-address", connector.ip], f"allow {connector.ip}",
                         ok=("already exists",))
            target.acl.append(connector.ip)

    def revoke(self, volume_id: str, key: str) -> bool:
        iqn = self.iqn(volume_id)
        with self._locked():
            target = self._show().get(iqn)
            if target is None:
                return False
            if key in target.acl:
                self._tgtadm(["--op", "unbind", "--mode", "target", "--tid", str(target.tid),
                              "--initiator-address", key], f"disallow {key}",
                             ok=("does not exist",))
                target.acl.remove(key)
            if target.acl:
                return True
            self._delete(target, volume_id)
        return False

    def remove_export(self, volume_id: str) -> None:
        with self._locked():
            target = self._show().get(self.iqn(volume_id))
            if target is not None:
                self._delete(target, volume_id)
            else:
                self._delete_account(names.volume_name(volume_id))

    def refresh(self, volume_id: str) -> None:
        iqn = self.iqn(volume_id)
        with self._locked():
            target = self._show().get(iqn)
            if target is None or LUN not in target.luns:
                return
            # tgtd reads a backing store's size when the LUN is added: re-add it. Open
            # sessions survive; initiators see the new size when they re-read capacity.
            path = target.luns[LUN]
            self._tgtadm(["--op", "delete", "--mode", "logicalunit", "--tid", str(target.tid),
                          "--lun", str(LUN)], f"remove LUN of {iqn}")
            self._tgtadm(["--op", "new", "--mode", "logicalunit", "--tid", str(target.tid),
                          "--lun", str(LUN), "--backing-store", path], f"re-add LUN of {iqn}")
        LOG.info("re-read the size of %s for volume %s", path, volume_id)

    def list_exports(self) -> list[Export]:
        exports = []
        for iqn, target in self._show().items():
            volume_id = names.volume_of_iqn(self.prefix, iqn)
            if volume_id:
                exports.append(Export(volume_id, iqn, target.luns.get(LUN),
                                      frozenset(target.acl)))
        return exports

    # -------------------------------------------------------------- helpers
    def _create_target(self, iqn: str, targets: dict[str, TgtTarget]) -> TgtTarget:
        used = {target.tid for target in targets.values()}
        tid = 1
        for _ in range(_MAX_TID_ATTEMPTS):
            while tid in used:
                tid += 1
            try:
                self._tgtadm(["--op", "new", "--mode", "target", "--tid", str(tid),
                              "--targetname", iqn], f"create target {iqn}")
            except TargetError as exc:
                if "already exists" not in str(exc):
                    raise
            else:
                for name, value in SESSION_PARAMS:
                    self._tgtadm(["--op", "update", "--mode", "target", "--tid", str(tid),
                                  "--name", name, "--value", value], f"tune {iqn}")
                return TgtTarget(tid, iqn)
            # Another process took this tid (or created our target) meanwhile: look again.
            fresh = self._show()
            if iqn in fresh:
                return fresh[iqn]
            used |= {target.tid for target in fresh.values()} | {tid}
        raise TargetError(f"no free tgt target id found for {iqn} after "
                          f"{_MAX_TID_ATTEMPTS} attempts")

    def _ensure_account(self, credentials: Credentials) -> None:
        # The password of an existing account cannot be read back: replace the account so
        # it surely matches (deleting an account also unbinds it everywhere).
        self._delete_account(credentials.username)
        self._tgtadm(["--op", "new", "--mode", "account", "--user", credentials.username,
                      "--password", credentials.password], "create CHAP account", secret=True)

    def _delete_account(self, username: str) -> None:
        self._tgtadm(["--op", "delete", "--mode", "account", "--user", username],
                     f"delete CHAP account {username}", ok=("can't find the account",))

    def _delete(self, target: TgtTarget, volume_id: str) -> None:
        # --force: close the sessions of initiators still logged in.
        self._tgtadm(["--op", "delete", "--mode", "target", "--tid", str(target.tid),
                      "--force"], f"delete target {target.iqn}", ok=("can't find the target",))
        # Accounts are global in tgtd: drop the ones this target used (only ours are ever
        # bound to it) and the volume's own name in case a bind never happened.
        for username in {*target.accounts, names.volume_name(volume_id)}:
            self._delete_account(username)
        LOG.info("removed target %s (tid %d) of volume %s", target.iqn, target.tid, volume_id)

    def _show(self) -> dict[str, TgtTarget]:
        return parse_show(self._tgtadm(["--op", "show", "--mode", "target"],
                                       "list the targets"))

    def _tgtadm(self, args: list[str], what: str, ok: tuple[str, ...] = (),
                secret: bool = False) -> str:
        argv = ["tgtadm", "--lld", "iscsi", *args]
        try:
            return self._execute(argv, timeout=60)
        except processutils.ProcessExecutionError as exc:
            detail = (exc.stderr or exc.stdout or "").strip()
            if any(text in detail for text in ok):
                return ""
            if "Transport endpoint is not connected" in detail or exc.exit_code == 107:
                detail = "tgtd is not running (start it: tgtd)"
            error = TargetError(f"could not {what}: {detail[:300]}")
            if secret:
                # The argv holds the CHAP password: keep it out of the chained traceback.
                raise error from None
            raise error from exc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        os.makedirs(os.path.dirname(self._lock_file), exist_ok=True)
        with open(self._lock_file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
