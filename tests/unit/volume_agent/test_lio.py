"""The LIO helper against a stub rtslib_fb module (configfs as Python objects)."""

from __future__ import annotations

import types

import pytest

from agents.volume.chap import Credentials
from agents.volume.exception import TargetError
from agents.volume.lio import OPEN_ACL, LioHelper
from agents.volume.targets import Connector
from tests.unit.volume_agent.helpers import backend_conf, new_id


class RTSLibError(Exception):
    pass


def make_rtslib():
    """A stub with the parts of rtslib-fb's API the helper uses, state in one dict."""
    state = {"targets": [], "storage": [], "saved": 0}

    class Node:
        def __init__(self):
            self.attributes = {}

        def set_attribute(self, name, value):
            self.attributes[name] = str(value)

        def get_attribute(self, name):
            return self.attributes.get(name, "0")

    class StorageObject:
        def __init__(self, name, dev, size=None, write_back=None):
            if any(so.name == name for so in state["storage"]):
                raise RTSLibError(f"storage object {name} exists")
            self.name, self.udev_path, self.size = name, dev, size
            state["storage"].append(self)

        def delete(self):
            state["storage"].remove(self)

    class FabricModule:
        def __init__(self, name):
            assert name == "iscsi"

    class Target:
        def __new__(cls, fabric, wwn, mode="any"):
            for target in state["targets"]:
                if target.wwn == wwn:
                    return target
            target = super().__new__(cls)
            target.wwn, target.tpgs = wwn, []
            state["targets"].append(target)
            return target

        def delete(self):
            for tpg in self.tpgs:
                for lun in tpg.luns:
                    lun.storage_object.users -= 1
            state["targets"].remove(self)

    class TPG(Node):
        def __new__(cls, target, tag, mode="any"):
            for tpg in target.tpgs:
                if tpg.tag == tag:
                    return tpg
            tpg = super().__new__(cls)
            Node.__init__(tpg)
            tpg.parent_target, tpg.tag, tpg.luns, tpg.node_acls = target, tag, [], []
            tpg.portals, tpg.enable, tpg.chap_userid, tpg.chap_password = [], False, "", ""
            target.tpgs.append(tpg)
            return tpg

        def __init__(self, *args, **kwargs):
            pass

    class LUN:
        def __init__(self, tpg, lun, storage_object):
            self.tpg, self.lun, self.storage_object = tpg, lun, storage_object
            storage_object.users = getattr(storage_object, "users", 0) + 1
            tpg.luns.append(self)

        def delete(self):
            self.tpg.luns.remove(self)

    class NodeACL:
        def __new__(cls, tpg, wwn, mode="any"):
            for acl in tpg.node_acls:
                if acl.node_wwn == wwn:
                    return acl
            acl = super().__new__(cls)
            acl.tpg, acl.node_wwn, acl.mapped_luns = tpg, wwn, []
            acl.chap_userid = acl.chap_password = ""
            tpg.node_acls.append(acl)
            return acl

        def delete(self):
            self.tpg.node_acls.remove(self)

    class MappedLUN:
        def __init__(self, acl, mapped_lun, tpg_lun):
            self.mapped_lun, self.tpg_lun = mapped_lun, tpg_lun
            acl.mapped_luns.append(self)

    class NetworkPortal:
        def __init__(self, tpg, ip, port, mode="any"):
            if (ip, port) not in tpg.portals:
                tpg.portals.append((ip, port))

    class RTSRoot:
        targets = property(lambda self: list(state["targets"]))
        storage_objects = property(lambda self: list(state["storage"]))

        def save_to_file(self, path):
            state["saved"] += 1

    module = types.ModuleType("rtslib_fb")
    module.__dict__.update(
        RTSLibError=RTSLibError, FileIOStorageObject=StorageObject,
        BlockStorageObject=StorageObject, FabricModule=FabricModule, Target=Target, TPG=TPG,
        LUN=LUN, NodeACL=NodeACL, MappedLUN=MappedLUN, NetworkPortal=NetworkPortal,
        RTSRoot=RTSRoot, state=state)
    return module


CREDS = Credentials("volume-x", "s3cretpassw0rd12")
HOST_A = Connector("a", "192.0.2.10", "iqn.1993-08.org.debian:01:aaa")
HOST_B = Connector("b", "192.0.2.11", "iqn.1993-08.org.debian:01:bbb")


@pytest.fixture
def rts():
    return make_rtslib()


@pytest.fixture
def helper(rts):
    return LioHelper(backend_conf(target_helper="lio"), rtslib=rts, save_file="/x.json")


@pytest.fixture
def volume(tmp_path):
    path = tmp_path / "volume-file"
    path.write_bytes(b"\0" * 4096)
    return new_id(), str(path)


def test_export_builds_target_lun_portal_and_acl_with_chap(helper, rts, volume):
    volume_id, path = volume
    export = helper.ensure_export(volume_id, path, CREDS, HOST_A)
    assert export.initiators == {HOST_A.initiator}
    (target,) = rts.state["targets"]
    assert target.wwn == f"iqn.2026-12.org.stratus:volume-{volume_id}"
    (tpg,) = target.tpgs
    assert tpg.tag == 1 and tpg.enable and tpg.get_attribute("authentication") == "1"
    assert tpg.portals == [("127.0.0.1", 3260)]
    (lun,) = tpg.luns
    assert lun.lun == 1 and lun.storage_object.udev_path == path
    assert lun.storage_object.size == 4096 and lun.storage_object.name == f"volume-{volume_id}"
    (acl,) = tpg.node_acls
    assert (acl.chap_userid, acl.chap_password) == (CREDS.username, CREDS.password)
    assert [m.mapped_lun for m in acl.mapped_luns] == [1]
    helper.ensure_export(volume_id, path, CREDS, HOST_A)  # idempotent
    assert len(tpg.luns) == 1 and len(acl.mapped_luns) == 1 and len(rts.state["storage"]) == 1
    assert rts.state["saved"] == 2


def test_connector_without_iqn_opens_tpg_chap(helper, rts, volume):
    volume_id, path = volume
    export = helper.ensure_export(volume_id, path, CREDS, Connector("q", "127.0.0.1"))
    assert export.initiators == {OPEN_ACL}
    tpg = rts.state["targets"][0].tpgs[0]
    assert tpg.get_attribute("generate_node_acls") == "1"
    assert (tpg.chap_userid, tpg.chap_password) == (CREDS.username, CREDS.password)
    assert helper.remove_connector(volume_id, Connector("q", "127.0.0.1")) is False
    assert rts.state["targets"] == [] and rts.state["storage"] == []


def test_last_connector_gone_removes_everything(helper, rts, volume):
    volume_id, path = volume
    helper.ensure_export(volume_id, path, CREDS, HOST_A)
    helper.ensure_export(volume_id, path, CREDS, HOST_B)
    assert helper.remove_connector(volume_id, HOST_A) is True
    assert [e.initiators for e in helper.list_exports()] == [{HOST_B.initiator}]
    assert helper.remove_connector(volume_id, HOST_B) is False
    assert rts.state["targets"] == [] and rts.state["storage"] == []
    helper.remove_export(volume_id)  # idempotent


def test_refresh_rebuilds_a_fileio_object_with_the_new_size(helper, rts, volume):
    volume_id, path = volume
    helper.ensure_export(volume_id, path, CREDS, HOST_A)
    with open(path, "ab") as handle:
        handle.write(b"\0" * 4096)
    helper.refresh(volume_id)
    (so,) = rts.state["storage"]
    assert so.size == 8192
    tpg = rts.state["targets"][0].tpgs[0]
    assert tpg.luns[0].storage_object is so
    assert [m.mapped_lun for m in tpg.node_acls[0].mapped_luns] == [1]


def test_list_exports_ignores_foreign_targets(helper, rts, volume):
    volume_id, path = volume
    rts.Target(rts.FabricModule("iscsi"), "iqn.2003-01.org.linux-iscsi.x:sn.1")
    helper.ensure_export(volume_id, path, CREDS, HOST_A)
    exports = helper.list_exports()
    assert [(e.volume_id, e.path) for e in exports] == [(volume_id, path)]


def test_rtslib_errors_are_target_errors(helper, rts, volume):
    volume_id, path = volume

    def broken(*args, **kwargs):
        raise RTSLibError("configfs is not mounted")

    rts.FabricModule = broken
    with pytest.raises(TargetError, match="configfs"):
        helper.ensure_export(volume_id, path, CREDS, HOST_A)


def test_missing_rtslib_says_what_to_install(monkeypatch):
    import importlib

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name: (_ for _ in ()).throw(
        ImportError(name)) if name == "rtslib_fb" else real(name))
    with pytest.raises(TargetError, match="rtslib-fb"):
        LioHelper(backend_conf(target_helper="lio"))
