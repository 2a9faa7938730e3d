"""LibvirtDriver logic over a stub libvirt connection: error translation, graceful power
off with escalation, soft reboot fallback, spawn unwinding. The real thing is exercised
in tests/functional/compute_agent."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from agents.compute import conf as compute_conf
from agents.compute import domain_xml, libvirt_host
from agents.compute.exception import (
    DiskError,
    HypervisorError,
    HypervisorUnavailable,
    InstanceNotFound,
    InvalidPowerState,
)
from agents.compute.libvirt_driver import LibvirtDriver
from agents.compute.power_state import PowerState
from agents.compute.serial_ports import SerialPorts
from tests.unit.compute_agent import helpers

libvirt = pytest.importorskip("libvirt", reason="libvirt-python not installed")

RUNNING, PAUSED, SHUTOFF = 1, 3, 5
GIB = 1024 ** 3
OWNER = "agent-a"


def _error(code, domain=10, message="boom"):
    exc = libvirt.libvirtError(message)
    exc.err = (code, domain, message, 2, None, None, None, 0, 0)
    return exc


class StubDomain:
    """A virDomain look-alike (libvirt's camelCase method names)."""

    def __init__(self, name, state=RUNNING, obeys_button=True, xml=None):
        self._name = name
        self.libvirt_state = state
        self.obeys_button = obeys_button
        self.saved = False
        self.calls: list[str] = []
        self.xml = xml or f"<domain><name>{name}</name></domain>"

    def XMLDesc(self, flags):
        return self.xml

    def metadata(self, kind, uri, flags):
        assert kind == libvirt.VIR_DOMAIN_METADATA_ELEMENT
        element = ET.fromstring(self.xml).find(f"metadata/{{{uri}}}instance")
        if element is None:
            raise _error(libvirt.VIR_ERR_NO_DOMAIN_METADATA, message="no metadata")
        # As libvirt does: the element alone, without its namespace.
        for node in element.iter():
            node.tag = node.tag.split("}")[-1]
        return ET.tostring(element, encoding="unicode")

    def suspend(self):
        self.calls.append("pause")
        self.libvirt_state = PAUSED

    def resume(self):
        self.calls.append("unpause")
        self.libvirt_state = RUNNING

    def name(self):
        return self._name

    def state(self, flags):
        return [self.libvirt_state, 1]

    def isActive(self):
        return self.libvirt_state in (RUNNING, PAUSED)

    def hasManagedSaveImage(self, flags):
        return self.saved

    def info(self):
        return [self.libvirt_state, 65536, 65536, 1, 0]

    def shutdownFlags(self, flags):
        self.calls.append("button")
        if self.obeys_button:
            self.libvirt_state = SHUTOFF

    def destroy(self):
        self.calls.append("destroy")
        self.libvirt_state = SHUTOFF

    def createWithFlags(self, flags):
        self.calls.append("start")
        self.saved = False
        self.libvirt_state = RUNNING

    def managedSave(self, flags):
        self.calls.append("save")
        self.saved, self.libvirt_state = True, SHUTOFF

    def managedSaveRemove(self, flags):
        self.calls.append("discard save")
        self.saved = False

    def undefineFlags(self, flags):
        self.calls.append("undefine")
        if getattr(self, "conn", None) is not None:
            self.conn.domains.pop(self._name, None)


class StubConn:
    def __init__(self):
        self.domains: dict[str, StubDomain] = {}
        self.alive = True

    def isAlive(self):
        return self.alive

    def lookupByName(self, name):
        try:
            return self.domains[name]
        except KeyError:
            raise _error(libvirt.VIR_ERR_NO_DOMAIN, message="no domain") from None

    def getInfo(self):
        return ["x86_64", 24000, 2, 2400, 1, 1, 2, 1]

    def getVersion(self):
        return 7002000

    def listAllDomains(self, flags):
        return list(self.domains.values())

    def defineXMLFlags(self, xml, flags):
        assert flags == libvirt.VIR_DOMAIN_DEFINE_VALIDATE
        name = xml.split("<name>")[1].split("</name>")[0]
        dom = self.domains.setdefault(name, StubDomain(name, state=SHUTOFF))
        dom.xml, dom.conn = xml, self
        dom.calls.append("define")
        return dom


class NoDisks:
    """An image cache whose "disks" are text files holding their size in GiB."""

    def __init__(self, error=None):
        self.error = error

    def base_path(self, image_id):
        return f"/nonexistent/_base/{image_id}"

    def ensure_base(self, image):
        return self.base_path(image.id)

    def create_overlay(self, image, dest, size_gb):
        if self.error:
            raise self.error
        if not os.path.exists(dest):
            with open(dest, "w") as disk:
                disk.write(f"{size_gb or 1} image={image.id}")

    def virtual_size(self, path, fmt):
        with open(path) as disk:
            return int(disk.read().split()[0]) * GIB

    def resize_overlay(self, path, size_gb):
        with open(path) as disk:
            rest = disk.read().split(" ", 1)[1]
        with open(path, "w") as disk:
            disk.write(f"{size_gb} {rest}")


def _empty_config_drive(instance, path, tool=None):
    open(path, "wb").close()
    return path


def execute(argv):
    """cp and qemu-img convert on the text "disks"."""
    source, dest = argv[-2], argv[-1]
    with open(source) as src, open(dest, "w") as out:
        out.write(("flat " if argv[0] == "qemu-img" else "") + src.read())
    return ""


@pytest.fixture
def env(tmp_path):
    conn = StubConn()
    clock = helpers.Clock()
    conf = compute_conf.make(overrides={"instances_path": str(tmp_path), "virt_type": "qemu",
                                        "shutdown_timeout": 30, "shutdown_retry_interval": 10},
                             default_overrides={"host": OWNER})
    opened = []

    def opener(uri):
        opened.append(uri)
        return conn

    driver = LibvirtDriver(conf, NoDisks(), host=libvirt_host.Host("test:///", opener),
                           sleep=clock.sleep, clock=clock, execute=execute,
                           build_config_drive=_empty_config_drive,
                           serial_ports=SerialPorts(10000, 10009, is_free=lambda h, p: True))
    return driver, conn, clock, opened


def _add(conn, owner=OWNER, **kw):
    inst = helpers.instance()
    xml = domain_xml.build(domain_xml.DomainSpec(
        uuid=inst.uuid, display_name="x", project_id="p", memory_mib=64, vcpus=1,
        console_log="/x/console.log", disks=(domain_xml.Disk("/x/disk", "vda"),),
        owner_host=owner))
    dom = StubDomain(f"instance-{inst.uuid}", xml=xml, **kw)
    conn.domains[dom.name()] = dom
    return inst.uuid, dom


def test_graceful_power_off(env):
    driver, conn, clock, _ = env
    uuid, dom = _add(conn)
    assert driver.power_off(uuid) is True
    assert dom.calls == ["button"]
    assert driver.get_info(uuid).power_state == PowerState.SHUTDOWN
    assert driver.power_off(uuid) is False and dom.calls == ["button"]  # already off


def test_power_button_pressed_again_then_forced(env):
    driver, conn, clock, _ = env
    uuid, dom = _add(conn, obeys_button=False)
    assert driver.power_off(uuid) is False
    assert dom.calls == ["button", "button", "button", "destroy"]  # t=0, 10, 20; then 30
    assert 30 <= clock.now < 31
    uuid2, dom2 = _add(conn)
    assert driver.power_off(uuid2, timeout=0) is False and dom2.calls == ["destroy"]


def test_soft_reboot_falls_back_to_hard(env):
    driver, conn, _, _ = env
    uuid, dom = _add(conn)
    assert driver.reboot(uuid) == "soft" and dom.calls == ["button", "start"]
    stubborn_uuid, stubborn = _add(conn, obeys_button=False)
    assert driver.reboot(stubborn_uuid) == "hard"
    assert stubborn.calls[-2:] == ["destroy", "start"]
    dom.libvirt_state = PAUSED
    with pytest.raises(InvalidPowerState, match="unpause it first"):
        driver.reboot(uuid)


def test_suspend_resume_and_power_off_discarding_the_save(env):
    driver, conn, _, _ = env
    uuid, dom = _add(conn)
    driver.suspend(uuid)
    assert driver.get_info(uuid).power_state == PowerState.SUSPENDED
    with pytest.raises(InvalidPowerState, match="resume it first"):
        driver.power_on(uuid)
    driver.resume(uuid)
    assert driver.get_info(uuid).power_state == PowerState.RUNNING
    driver.suspend(uuid)
    assert driver.power_off(uuid) is False
    assert dom.calls[-1] == "discard save"
    assert driver.get_info(uuid).power_state == PowerState.SHUTDOWN


def test_libvirt_errors_are_translated(env):
    driver, conn, _, opened = env
    uuid, dom = _add(conn)
    with pytest.raises(InstanceNotFound):
        driver.pause(helpers.instance().uuid)

    def refuse(*args):
        raise _error(libvirt.VIR_ERR_OPERATION_FAILED, message="qemu said no")

    dom.suspend = refuse
    with pytest.raises(HypervisorError, match="qemu said no") as info:
        driver.pause(uuid)
    assert isinstance(info.value.__cause__, libvirt.libvirtError)

    def gone(*args):
        raise _error(libvirt.VIR_ERR_SYSTEM_ERROR, domain=libvirt.VIR_FROM_RPC,
                     message="End of file while reading data")

    dom.suspend = gone
    with pytest.raises(HypervisorUnavailable, match="start libvirtd"):
        driver.pause(uuid)
    driver.get_info(uuid)
    assert len(opened) == 2  # the dead connection was dropped and reopened


def test_unreachable_libvirtd(tmp_path):
    def opener(uri):
        raise _error(libvirt.VIR_ERR_SYSTEM_ERROR, message="Failed to connect socket")

    conf = compute_conf.make(overrides={"instances_path": str(tmp_path)})
    driver = LibvirtDriver(conf, NoDisks(), host=libvirt_host.Host("qemu:///system", opener))
    with pytest.raises(HypervisorUnavailable, match="libvirtd -d"):
        driver.list_instances()


def test_spawn_defines_starts_and_unwinds_on_failure(env, tmp_path):
    driver, conn, _, _ = env
    inst = helpers.instance()
    assert driver.spawn(inst).power_state == PowerState.RUNNING
    assert (tmp_path / inst.uuid / "disk").exists()
    assert [i.uuid for i in driver.list_instances()] == [inst.uuid]
    assert driver.list_instance_files() == [inst.uuid]
    driver.destroy(inst.uuid)
    assert not (tmp_path / inst.uuid).exists()

    conf = compute_conf.make(overrides={"instances_path": str(tmp_path)},
                             default_overrides={"host": OWNER})
    failing = LibvirtDriver(conf, NoDisks(DiskError("qemu-img broke")), host=driver.host)
    other = helpers.instance()
    with pytest.raises(DiskError):
        failing.spawn(other)
    assert not (tmp_path / other.uuid).exists()
    assert f"instance-{other.uuid}" not in conn.domains


def test_foreign_domains_are_ignored(env):
    driver, conn, _, _ = env
    conn.domains["my-own-vm"] = StubDomain("my-own-vm")
    conn.domains["instance-not-a-uuid"] = StubDomain("instance-not-a-uuid")
    _add(conn, owner="agent-b")  # another agent's guest on the same libvirtd
    untagged = helpers.instance().uuid  # e.g. defined by hand, or by an older agent
    conn.domains[f"instance-{untagged}"] = StubDomain(f"instance-{untagged}")
    uuid, _ = _add(conn)
    assert [info.uuid for info in driver.list_instances()] == [uuid]


def test_host_resources(env, tmp_path):
    driver, _, _, _ = env
    resources = driver.host_resources()
    assert (resources.vcpus, resources.memory_mb, resources.hypervisor_version) == (
        2, 24000, 7002000)
    assert resources.disk_gb >= resources.disk_free_gb >= 0
