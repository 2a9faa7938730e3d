"""Ports on domains without libvirt: the hot-plug XML is the boot XML, attach/detach
flags and idempotency, waiting for a guest to release a NIC, starting paused until the
ports are wired, and the port status poller."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET

import pytest

from agents.compute import configdrive, domain_xml, vifs
from agents.compute.exception import HypervisorError, InstanceNotFound, InvalidInput
from agents.compute.model import Instance, vif_from_spec
from tests.unit.compute_agent import helpers


class Dom:
    """A virDomain look-alike holding its live and persistent interface MACs."""

    def __init__(self, active: bool = True, macs: tuple[str, ...] = (),
                 releases: bool = True):
        self.active = active
        self.live = list(macs) if active else []
        self.config = list(macs)
        self.releases = releases  # False: the guest never lets go of a NIC
        self.calls: list[tuple] = []

    def isActive(self):
        return self.active

    def xml(self, inactive: bool) -> str:
        macs = self.config if inactive else self.live
        return "<domain><devices>" + "".join(
            f"<interface type='bridge'><mac address='{m}'/></interface>" for m in macs) + \
            "</devices></domain>"

    @staticmethod
    def _mac(xml: str) -> str:
        return ET.fromstring(xml).find("mac").get("address")

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(("attach", flags, xml))
        if flags & vifs.AFFECT_CONFIG:
            self.config.append(self._mac(xml))
        if flags & vifs.AFFECT_LIVE:
            self.live.append(self._mac(xml))

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(("detach", flags, xml))
        mac = self._mac(xml)
        if flags & vifs.AFFECT_CONFIG:
            self.config.remove(mac)
        if flags & vifs.AFFECT_LIVE and self.releases:
            self.live.remove(mac)

    def createWithFlags(self, flags):
        self.calls.append(("create", flags))
        self.active = True

    def resume(self):
        self.calls.append(("resume",))


class Host:
    """The part of libvirt_host.Host the plugger uses."""

    def __init__(self, dom: Dom | None):
        self.dom = dom

    def lookup(self, uuid):
        if self.dom is None:
            raise InstanceNotFound(f"instance {uuid} has no domain")
        return self.dom

    def errors(self, uuid, action):
        return contextlib.nullcontext()

    def xml(self, uuid, dom, inactive=False):
        return dom.xml(inactive)


def _plugger(dom, timeout=5.0):
    clock = helpers.Clock()
    return vifs.Plugger(Host(dom), offloads=False, detach_timeout=timeout,
                        sleep=clock.sleep, clock=clock), clock


def test_the_hotplug_element_is_the_boot_element():
    vif = helpers.vif(1)
    nic = vifs.nic(vif, offloads=False)
    full = domain_xml.build(domain_xml.DomainSpec(
        uuid="0b5d7a36-0d9f-4a55-8b8a-3f3a9f0e9c11", display_name="vm", project_id="p",
        memory_mib=64, vcpus=1, console_log="/tmp/log", disks=(domain_xml.Disk("/d", "vda"),),
        interfaces=(nic,), virt_type="qemu"))
    in_domain = ET.fromstring(full).find("devices/interface")
    alone = ET.fromstring(domain_xml.interface(nic))
    assert ET.canonicalize(ET.tostring(alone), strip_text=True) == \
        ET.canonicalize(ET.tostring(in_domain), strip_text=True)
    assert alone.find("virtualport/parameters").get("interfaceid") == vif.id
    assert alone.find("target").get("dev") == vif.devname
    assert alone.find("driver/host").get("csum") == "off"  # offloads off, as at boot
    assert domain_xml.interface_macs(full) == [vif.mac]
    assert domain_xml.interface_macs("not xml") == []


def test_attach_running_stopped_and_again():
    vif = helpers.vif(2)
    running = Dom(active=True)
    plugger, _ = _plugger(running)
    plugger.attach("u1", vif)
    assert running.calls[0][:2] == ("attach", vifs.AFFECT_LIVE | vifs.AFFECT_CONFIG)
    plugger.attach("u1", vif)  # already there: nothing more
    assert len(running.calls) == 1
    stopped = Dom(active=False)
    plugger, _ = _plugger(stopped)
    plugger.attach("u1", vif)
    assert stopped.calls[0][:2] == ("attach", vifs.AFFECT_CONFIG)
    with pytest.raises(InstanceNotFound):
        _plugger(None)[0].attach("u1", vif)


def test_detach_waits_for_the_guest():
    vif = helpers.vif(3)
    dom = Dom(active=True, macs=(vif.mac,))
    plugger, _ = _plugger(dom)
    plugger.detach("u1", vif)
    assert dom.calls[0][:2] == ("detach", vifs.AFFECT_LIVE | vifs.AFFECT_CONFIG)
    assert dom.live == dom.config == []
    plugger.detach("u1", vif)  # gone already: nothing more
    assert len(dom.calls) == 1


def test_detach_a_guest_keeps_fails_after_the_timeout():
    vif = helpers.vif(4)
    dom = Dom(active=True, macs=(vif.mac,), releases=False)
    plugger, clock = _plugger(dom, timeout=5.0)
    with pytest.raises(HypervisorError, match="did not release port"):
        plugger.detach("u1", vif)
    assert clock.now >= 5.0


def test_start_paused_until_the_ports_are_wired():
    instance = helpers.instance(vifs=(helpers.vif(0), helpers.vif(1)))
    asked = []

    def wired(port_ids, timeout):
        asked.append((list(port_ids), timeout))
        return True

    dom = Dom(active=False)
    vifs.start_when_wired(Host(dom), dom, instance, wired, 30, fatal=True)
    assert dom.calls == [("create", vifs.START_PAUSED), ("resume",)]
    assert asked == [([v.id for v in instance.vifs], 30)]


@pytest.mark.parametrize(("answer", "fatal", "calls"), [
    (False, False, [("create", vifs.START_PAUSED), ("resume",)]),
    (RuntimeError("bus down"), False, [("create", vifs.START_PAUSED), ("resume",)]),
    (False, True, [("create", vifs.START_PAUSED)]),
])
def test_start_when_the_ports_are_not_wired(answer, fatal, calls):
    instance = helpers.instance(vifs=(helpers.vif(0),))

    def wait(port_ids, timeout):
        if isinstance(answer, Exception):
            raise answer
        return answer

    dom = Dom(active=False)
    if fatal:
        with pytest.raises(HypervisorError, match="not wired"):
            vifs.start_when_wired(Host(dom), dom, instance, wait, 5, fatal=True)
    else:
        vifs.start_when_wired(Host(dom), dom, instance, wait, 5, fatal=False)
    assert dom.calls == calls


@pytest.mark.parametrize(("instance", "wait", "timeout"), [
    (helpers.instance(), lambda ids, t: True, 30),  # no ports
    (helpers.instance(vifs=(helpers.vif(0),)), None, 30),  # nobody to ask
    (helpers.instance(vifs=(helpers.vif(0),)), lambda ids, t: True, 0),  # disabled
])
def test_start_at_once(instance, wait, timeout):
    dom = Dom(active=False)
    vifs.start_when_wired(Host(dom), dom, instance, wait, timeout, fatal=True)
    assert dom.calls == [("create", 0)]


def test_port_waiter_polls_until_every_port_is_active():
    clock = helpers.Clock()
    answers = iter([RuntimeError("conductor restarting"), {"a": "ACTIVE", "b": "DOWN"},
                    {"b": "ACTIVE"}])
    seen = []

    def statuses(ids):
        seen.append(list(ids))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    wait = vifs.port_waiter(statuses, sleep=clock.sleep, clock=clock, interval=0.5)
    assert wait(["a", "b"], 10) is True
    assert seen == [["a", "b"], ["a", "b"], ["b"]]  # wired ports are not asked again
    never = vifs.port_waiter(lambda ids: {}, sleep=clock.sleep, clock=clock, interval=0.5)
    start = clock.now
    assert never(["a"], 3) is False and clock.now - start >= 3


def test_network_data_from_the_spec_and_vif_parsing():
    document = {"links": [{"id": "tap1", "vif_id": "p"}], "networks": [
        {"id": "network0", "type": "ipv4_dhcp", "ip_address": "10.0.0.5"}], "services": []}
    spec = {"uuid": "0b5d7a36-0d9f-4a55-8b8a-3f3a9f0e9c11", "name": "vm", "project_id": "p",
            "flavor": {"name": "f", "memory_mb": 64, "vcpus": 1},
            "image": {"id": helpers.IMAGE_ID}, "network_data": document,
            "vifs": [{"id": helpers.vif(0).id, "mac": "FA:16:3E:00:00:00", "mtu": 1450,
                      "network_id": helpers.vif(0).network_id, "devname": "ignored",
                      "fixed_ips": [{"ip_address": "10.0.0.5"}]}]}
    instance = Instance.from_spec(spec)
    assert configdrive.network_data(instance) == document
    assert instance.vifs[0].mac == "fa:16:3e:00:00:00" and instance.vifs[0].bridge == "br-int"
    without = Instance.from_spec({**spec, "network_data": None})
    assert configdrive.network_data(without)["networks"][0]["type"] == "ipv4_dhcp"
    with pytest.raises(InvalidInput):
        Instance.from_spec({**spec, "network_data": "nope"})
    with pytest.raises(InvalidInput, match="malformed"):
        vif_from_spec({"mac": "fa:16:3e:00:00:01"})
    with pytest.raises(InvalidInput):
        vif_from_spec({"id": helpers.vif(0).id, "mac": "not-a-mac"})
