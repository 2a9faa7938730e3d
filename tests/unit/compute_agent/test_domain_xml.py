"""The libvirt domain XML: shape, values from data, and no injection through values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from agents.compute import conf as compute_conf
from agents.compute import domain_xml, imagecache, paths
from agents.compute.exception import InvalidInput
from agents.compute.libvirt_driver import LibvirtDriver
from tests.unit.compute_agent import helpers

NS = {"s": domain_xml.METADATA_NS}


def _spec(instance, serial_port=None, **opts):
    opts.setdefault("force_config_drive", False)
    conf = compute_conf.make(overrides={"instances_path": "/srv/instances", **opts},
                             default_overrides={"host": "agent-a"})
    driver = LibvirtDriver(conf, imagecache.ImageCache("/srv/instances", fetch=lambda _: []))
    return driver.domain_spec(instance, paths.InstancePaths("/srv/instances", instance.uuid),
                              serial_port=serial_port)


def _xml(instance, serial_port=None, **opts) -> ET.Element:
    return ET.fromstring(domain_xml.build(_spec(instance, serial_port, **opts)))


def test_identity_size_and_machine():
    inst = helpers.instance(flavor=helpers.model.Flavor("m1.small", 512, 2, 1))
    root = _xml(inst, virt_type="qemu")
    assert root.get("type") == "qemu"
    assert root.findtext("name") == f"instance-{inst.uuid}"
    assert root.findtext("uuid") == inst.uuid
    assert root.findtext("memory") == "512" and root.find("memory").get("unit") == "MiB"
    assert root.findtext("vcpu") == "2"
    os_type = root.find("os/type")
    assert os_type.text == "hvm" and os_type.get("machine") == "pc"
    assert root.find("features/acpi") is not None  # the power button needs ACPI
    assert root.find("cpu") is None  # TCG: let libvirt pick the CPU model
    assert _xml(inst, virt_type="kvm", cpu_mode="host-model").find("cpu").get(
        "mode") == "host-model"


def test_root_disk_is_a_virtio_qcow2_overlay_on_an_unrelabelled_base():
    inst = helpers.instance()
    (disk,) = _xml(inst).findall("devices/disk")
    assert disk.get("device") == "disk"
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("source").get("file") == f"/srv/instances/{inst.uuid}/disk"
    assert disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert disk.find("readonly") is None
    backing = disk.find("backingStore")
    assert backing.find("format").get("type") == "qcow2"
    assert backing.find("source").get("file") == f"/srv/instances/_base/{helpers.IMAGE_ID}"
    # libvirt must not chown the shared base to the QEMU user.
    assert backing.find("source/seclabel").attrib == {"model": "dac", "relabel": "no"}
    assert list(backing.find("backingStore")) == []  # the chain ends there


@pytest.mark.parametrize(("bus", "target", "device"), [("ide", "hdc", "cdrom"),
                                                       ("virtio", "vdb", "disk")])
def test_config_drive_is_ide_cdrom_or_virtio_disk(bus, target, device):
    inst = helpers.instance(config_drive=True)
    disks = _xml(inst, config_drive_bus=bus).findall("devices/disk")
    assert len(disks) == 2
    drive = disks[1]
    assert drive.get("device") == device
    assert drive.find("target").attrib == {"dev": target, "bus": bus}
    assert drive.find("driver").get("type") == "raw"
    assert drive.find("readonly") is not None
    assert drive.find("source").get("file").endswith("/disk.config")


def test_config_drive_is_forced_by_default():
    inst = helpers.instance(config_drive=False)
    assert len(_xml(inst, force_config_drive=True).findall("devices/disk")) == 2
    assert len(_xml(inst, force_config_drive=False).findall("devices/disk")) == 1


def test_serial_console_is_logged_and_interactive():
    inst = helpers.instance()
    devices = _xml(inst).find("devices")
    serial = devices.find("serial")
    assert serial.get("type") == "pty"  # no port given: reachable through OpenConsole
    assert serial.find("log").attrib == {
        "file": f"/srv/instances/{inst.uuid}/console.log", "append": "on"}
    assert devices.find("console/target").attrib == {"type": "serial", "port": "0"}


def test_serial_console_on_a_local_tcp_port():
    inst = helpers.instance()
    text = domain_xml.build(_spec(inst, serial_port=10123))
    devices = ET.fromstring(text).find("devices")
    for element in ("serial", "console"):
        chardev = devices.find(element)
        assert chardev.get("type") == "tcp"
        assert chardev.find("source").attrib == {"mode": "bind", "host": "127.0.0.1",
                                                 "service": "10123"}
        assert chardev.find("protocol").get("type") == "raw"
    assert devices.find("serial/log").get("file").endswith("/console.log")
    assert domain_xml.serial_port(text) == 10123
    assert domain_xml.serial_port(domain_xml.build(_spec(inst))) is None
    with pytest.raises(InvalidInput):
        domain_xml.build(domain_xml.DomainSpec(**{**_spec(inst).__dict__,
                                                  "serial_port": 70000}))


def test_live_xml_readers():
    inst = helpers.instance(flavor=helpers.model.Flavor("m1.small", 512, 2, 3))
    text = domain_xml.build(_spec(inst))
    assert domain_xml.owner_host(text) == "agent-a"
    assert domain_xml.flavor_of(text) == {"name": "m1.small", "memory_mb": 512, "vcpus": 2,
                                          "root_gb": 3}
    # libvirt's virDomainGetMetadata answers with our element alone, namespace stripped.
    assert domain_xml.owner_host('<instance>\n  <owner host="agent-b"/>\n</instance>') == \
        "agent-b"
    fragment = (f'<instance xmlns="{domain_xml.METADATA_NS}"><owner host="agent-c"/>'
                "</instance>")
    assert domain_xml.owner_host(fragment) == "agent-c"
    assert domain_xml.owner_host("<domain/>") is None
    assert domain_xml.owner_host("not xml") is None
    assert domain_xml.vnc_port(text) is None  # autoport: known once running
    live = text.replace("autoport=\"yes\"", "autoport=\"yes\" port=\"5901\"")
    assert domain_xml.vnc_port(live) == 5901


def test_vnc_on_localhost_with_autoport_or_none():
    graphics = _xml(helpers.instance()).find("devices/graphics")
    assert graphics.attrib == {"type": "vnc", "autoport": "yes", "listen": "127.0.0.1"}
    assert _xml(helpers.instance(), vnc_enabled=False).find("devices/graphics") is None


def test_ovs_interface_has_virtualport_tap_name_and_offloads_off():
    port = helpers.vif(0)
    (nic,) = _xml(helpers.instance(vifs=(port,))).findall("devices/interface")
    assert nic.get("type") == "bridge"
    assert nic.find("mac").get("address") == port.mac
    assert nic.find("source").get("bridge") == "br-int"
    assert nic.find("virtualport").get("type") == "openvswitch"
    assert nic.find("virtualport/parameters").get("interfaceid") == port.id
    assert nic.find("target").get("dev") == "tap" + port.id[:11]
    assert nic.find("model").get("type") == "virtio"
    assert nic.find("mtu").get("size") == "1450"
    driver = nic.find("driver")
    assert driver.get("name") == "qemu"
    assert driver.find("host").attrib == dict.fromkeys(
        ["csum", "gso", "tso4", "tso6", "ecn", "ufo"], "off")
    assert driver.find("guest").attrib == dict.fromkeys(
        ["csum", "tso4", "tso6", "ecn", "ufo"], "off")


def test_bridge_and_ethernet_interfaces_and_offloads_on():
    inst = helpers.instance(vifs=(helpers.vif(0, type="bridge", bridge="brq1234"),
                                  helpers.vif(1, type="ethernet", bridge=None)))
    bridge, ethernet = _xml(inst, nic_offloads=True).findall("devices/interface")
    assert bridge.get("type") == "bridge" and bridge.find("virtualport") is None
    assert bridge.find("source").get("bridge") == "brq1234"
    assert ethernet.get("type") == "ethernet" and ethernet.find("source") is None
    assert bridge.find("driver") is None  # offloads (and vhost) kept


def test_metadata_carries_name_project_flavor_image():
    inst = helpers.instance(name="web 1")
    meta = _xml(inst).find("metadata/s:instance", NS)
    assert meta.findtext("s:name", namespaces=NS) == "web 1"
    assert meta.find("s:project", NS).get("uuid") == helpers.PROJECT_ID
    assert meta.find("s:user", NS).get("uuid") == "u-1"
    assert meta.find("s:flavor", NS).attrib == {"name": "m1.nano", "memory": "64", "vcpus": "1",
                                                "disk": "1"}
    assert meta.find("s:owner", NS).get("host") == "agent-a"
    assert meta.find("s:image", NS).get("uuid") == helpers.IMAGE_ID


def test_hostile_values_stay_text():
    evil = "x' /><devices><disk type='file'><source file='/etc/shadow'/></disk></devices><a b='"
    inst = helpers.instance(name=evil + "\nsecond line")
    text = domain_xml.build(_spec(inst))
    root = ET.fromstring(text)
    assert len(root.findall("devices/disk")) == 1
    assert "/etc/shadow" not in [d.get("file") for d in root.iter("source")]
    assert root.find("metadata/s:instance/s:name", NS).text == evil + "\nsecond line"
    assert "\n" not in root.findtext("title")  # libvirt rejects multi-line titles


def test_inconsistent_specs_are_refused():
    spec = _spec(helpers.instance())
    with pytest.raises(InvalidInput):
        domain_xml.build(domain_xml.DomainSpec(**{**spec.__dict__, "disks": ()}))
    with pytest.raises(InvalidInput):
        domain_xml.build(domain_xml.DomainSpec(**{**spec.__dict__, "virt_type": "xen"}))
    with pytest.raises(InvalidInput):
        domain_xml.Disk("/x", "vda", bus="sata")
