"""The tgt helper against a small emulation of tgtadm (argv in, tgtd's answers out)."""

from __future__ import annotations

import pytest

from agents.volume.chap import Credentials
from agents.volume.exception import TargetError
from agents.volume.targets import Connector
from agents.volume.tgt import TgtHelper, parse_show
from common.processutils import ProcessExecutionError
from tests.unit.volume_agent.helpers import backend_conf, new_id

# What `tgtadm --lld iscsi --mode target --op show` printed on this machine's tgt 1.0.85.
REAL_SHOW = """Target 900: iqn.2026-12.org.stratus:volume-6a0c1b35-9b44-4e8e-a1d8-13f5a2c1e8aa
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 2
            Initiator: iqn.2008-11.org.linux-kvm alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     03840000
            Size: 0 MB, Block size: 1
            Backing store type: null
            Backing store path: None
            Backing store flags:
        LUN: 1
            Type: disk
            Size: 67 MB, Block size: 512
            Backing store type: rdwr
            Backing store path: /tmp/tgtproto.JCLn/vol
            Backing store flags:
    Account information:
        u1
    ACL information:
        127.0.0.1
Target 901: iqn.2010-10.org.other:disk1
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store path: None
    Account information:
    ACL information:
        ALL
"""


class FakeTgtd:
    """Enough of tgtd for the helper: targets, LUNs, accounts, bindings, ACLs."""

    def __init__(self) -> None:
        self.targets: dict[int, dict] = {}
        self.accounts: dict[str, str] = {}
        self.argvs: list[list[str]] = []
        self.steal_tid: int | None = None  # another process creates this tid first

    def __call__(self, argv, **kwargs) -> str:
        self.argvs.append(list(argv))
        assert argv[:3] == ["tgtadm", "--lld", "iscsi"]
        opts = dict(zip(argv[3::2], argv[4::2], strict=False))
        op, mode = opts["--op"], opts["--mode"]
        tid = int(opts.get("--tid", 0))
        if op == "show":
            return self.show()
        if mode == "target" and op == "new":
            if self.steal_tid == tid:
                self.steal_tid = None
                self.targets[tid] = self._target("iqn.2010-10.org.other:stolen")
            names = [t["name"] for t in self.targets.values()]
            if tid in self.targets or opts["--targetname"] in names:
                self._fail("this target already exists")
            self.targets[tid] = self._target(opts["--targetname"])
        elif mode == "target" and op == "update":
            self._need(tid).setdefault("params", {})[opts["--name"]] = opts["--value"]
        elif mode == "target" and op == "delete":
            self._need(tid)
            del self.targets[tid]
        elif mode == "target" and op == "bind":
            acl = self._need(tid)["acl"]
            if opts["--initiator-address"] in acl:
                self._fail("this access control rule already exists")
            acl.append(opts["--initiator-address"])
        elif mode == "target" and op == "unbind":
            acl = self._need(tid)["acl"]
            if opts["--initiator-address"] not in acl:
                self._fail("this access control rule does not exist")
            acl.remove(opts["--initiator-address"])
        elif mode == "logicalunit" and op == "new":
            self._need(tid)["luns"][int(opts["--lun"])] = opts["--backing-store"]
        elif mode == "logicalunit" and op == "delete":
            del self._need(tid)["luns"][int(opts["--lun"])]
        elif mode == "account" and op == "new":
            if opts["--user"] in self.accounts:
                self._fail("this account already exists")
            self.accounts[opts["--user"]] = opts["--password"]
        elif mode == "account" and op == "delete":
            if opts["--user"] not in self.accounts:
                self._fail("can't find the account")
            del self.accounts[opts["--user"]]
            for target in self.targets.values():
                if opts["--user"] in target["accounts"]:
                    target["accounts"].remove(opts["--user"])
        elif mode == "account" and op == "bind":
            target = self._need(tid)
            if opts["--user"] in target["accounts"]:
                self._fail("this account already exists")
            target["accounts"].append(opts["--user"])
        else:
            raise AssertionError(f"unexpected tgtadm call {argv}")
        return ""

    def show(self) -> str:
        out = []
        for tid, target in sorted(self.targets.items()):
            out += [f"Target {tid}: {target['name']}", "    System information:",
                    "        Driver: iscsi", "    I_T nexus information:",
                    "    LUN information:", "        LUN: 0",
                    "            Backing store path: None"]
            for lun, path in sorted(target["luns"].items()):
                out += [f"        LUN: {lun}", "            Type: disk",
                        f"            Backing store path: {path}"]
            out += ["    Account information:"]
            out += [f"        {name}" for name in target["accounts"]]
            out += ["    ACL information:"]
            out += [f"        {ip}" for ip in target["acl"]]
        return "\n".join(out) + "\n"

    @staticmethod
    def _target(name: str) -> dict:
        return {"name": name, "luns": {}, "accounts": [], "acl": []}

    def _need(self, tid: int) -> dict:
        if tid not in self.targets:
            self._fail("can't find the target")
        return self.targets[tid]

    @staticmethod
    def _fail(message: str) -> None:
        raise ProcessExecutionError(["tgtadm"], 22, "", f"tgtadm: {message}\n")


@pytest.fixture
def tgtd():
    return FakeTgtd()


@pytest.fixture
def helper(tgtd, tmp_path):
    return TgtHelper(backend_conf(), execute=tgtd, lock_file=str(tmp_path / "tgt.lock"))


CREDS = Credentials("volume-x", "s3cretpassw0rd12")
HOST_A = Connector("a", "192.0.2.10")
HOST_B = Connector("b", "192.0.2.11")


def test_parse_real_show_output():
    targets = parse_show(REAL_SHOW)
    ours = targets["iqn.2026-12.org.stratus:volume-6a0c1b35-9b44-4e8e-a1d8-13f5a2c1e8aa"]
    assert ours.tid == 900 and ours.luns == {1: "/tmp/tgtproto.JCLn/vol"}
    assert ours.accounts == ["u1"] and ours.acl == ["127.0.0.1"] and ours.sessions == 1
    other = targets["iqn.2010-10.org.other:disk1"]
    assert other.tid == 901 and other.luns == {} and other.acl == ["ALL"]


def test_export_creates_target_lun_chap_and_acl(helper, tgtd):
    volume_id = new_id()
    export = helper.ensure_export(volume_id, "/v/volume-1", CREDS, HOST_A)
    assert export.iqn == f"iqn.2026-12.org.stratus:volume-{volume_id}"
    assert export.initiators == {"192.0.2.10"}
    (tid, target), = tgtd.targets.items()
    assert tid == 1 and target["luns"] == {1: "/v/volume-1"}
    assert target["params"]["MaxBurstLength"] == "1048576"
    assert target["accounts"] == ["volume-x"] and tgtd.accounts == {"volume-x": CREDS.password}
    calls = len(tgtd.argvs)
    helper.ensure_export(volume_id, "/v/volume-1", CREDS, HOST_A)  # idempotent: only a show
    assert len(tgtd.argvs) == calls + 1
    helper.ensure_export(volume_id, "/v/volume-1", CREDS, HOST_B)
    assert target["acl"] == ["192.0.2.10", "192.0.2.11"]
    assert helper.list_exports()[0].initiators == {"192.0.2.10", "192.0.2.11"}


def test_tids_skip_used_and_stolen_ones(helper, tgtd):
    tgtd.targets[1] = FakeTgtd._target("iqn.2010-10.org.other:one")
    tgtd.steal_tid = 2  # another process takes tid 2 between our show and our new
    volume_id = new_id()
    helper.ensure_export(volume_id, "/v/a", CREDS)
    assert tgtd.targets[3]["name"].endswith(volume_id)
    assert {e.volume_id for e in helper.list_exports()} == {volume_id}  # others ignored


def test_revoke_last_connector_removes_target_and_account(helper, tgtd):
    volume_id = new_id()
    helper.ensure_export(volume_id, "/v/a", CREDS, HOST_A)
    helper.ensure_export(volume_id, "/v/a", CREDS, HOST_B)
    assert helper.remove_connector(volume_id, HOST_A) is True
    assert helper.remove_connector(volume_id, HOST_A) is True  # idempotent
    assert helper.remove_connector(volume_id, HOST_B) is False
    assert tgtd.targets == {} and "volume-x" not in tgtd.accounts
    assert helper.remove_connector(volume_id, HOST_B) is False


def test_remove_export_forces_sessions_off_and_is_idempotent(helper, tgtd):
    volume_id = new_id()
    helper.ensure_export(volume_id, "/v/a", CREDS, HOST_A)
    helper.remove_export(volume_id)
    deletes = [a for a in tgtd.argvs if a[3:7] == ["--op", "delete", "--mode", "target"]]
    assert deletes and deletes[0][-1] == "--force"
    assert tgtd.targets == {}
    helper.remove_export(volume_id)


def test_export_replaces_a_stale_lun_and_refresh_readds_it(helper, tgtd):
    volume_id = new_id()
    helper.ensure_export(volume_id, "/v/old", CREDS, HOST_A)
    helper.ensure_export(volume_id, "/v/new", CREDS, HOST_A)
    assert tgtd.targets[1]["luns"] == {1: "/v/new"}
    tgtd.argvs.clear()
    helper.refresh(volume_id)
    ops = [(a[4], a[6]) for a in tgtd.argvs if a[4] != "show"]
    assert ops == [("delete", "logicalunit"), ("new", "logicalunit")]
    helper.refresh(new_id())  # no export: nothing to do


def test_tgtd_down_is_a_clear_error(tmp_path):
    def down(argv, **kwargs):
        raise ProcessExecutionError(argv, 107, "", "tgtadm: failed to send request hdr to "
                                    "tgt daemon, Transport endpoint is not connected\n")
    helper = TgtHelper(backend_conf(), execute=down, lock_file=str(tmp_path / "l"))
    with pytest.raises(TargetError, match="tgtd is not running"):
        helper.list_exports()


def test_the_chap_password_never_reaches_an_error_message(helper, tgtd):
    tgtd.accounts["volume-x"] = "old"

    def refuse_new_account(argv, **kwargs):
        if "--password" in argv:
            raise ProcessExecutionError(argv, 22, "", "tgtadm: out of memory\n")
        return tgtd(argv, **kwargs)

    helper._execute = refuse_new_account
    with pytest.raises(TargetError) as caught:
        helper.ensure_export(new_id(), "/v/a", CREDS, HOST_A)
    assert CREDS.password not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_failed_new_export_is_rolled_back(helper, tgtd):
    def no_lun(argv, **kwargs):
        if "logicalunit" in argv and "new" in argv:
            raise ProcessExecutionError(argv, 22, "", "tgtadm: invalid request\n")
        return tgtd(argv, **kwargs)

    helper._execute = no_lun
    with pytest.raises(TargetError):
        helper.ensure_export(new_id(), "/v/missing", CREDS, HOST_A)
    assert tgtd.targets == {} and tgtd.accounts == {}
