"""Our domain XML against the real libvirt schema and QEMU's device model.

No guest boots: domains are defined with schema validation, and one is started paused
(QEMU then checks every device property, e.g. the NIC offload switches) and destroyed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from agents.compute import conf as compute_conf
from agents.compute import domain_xml, imagecache, libvirt_host, paths
from agents.compute.libvirt_driver import LibvirtDriver
from agents.compute.model import Flavor, ImageRef, Instance, Vif
from agents.compute.serial_ports import SerialPorts, port_is_free

libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")

DEFINE_VALIDATE = libvirt.VIR_DOMAIN_DEFINE_VALIDATE  # check against libvirt's RNG schema


def _instance(vifs) -> Instance:
    return Instance(uuid=str(uuid.uuid4()), name="xml <check> & 'quotes'",
                    project_id="p", flavor=Flavor("m1.nano", 64, 1, 1),
                    image=ImageRef(str(uuid.uuid4())), config_drive=True, vifs=tuple(vifs))


@pytest.fixture(scope="module")
def conn(libvirt_uri):
    connection = libvirt.open(libvirt_uri)
    yield connection
    connection.close()


def _spec(config, instance, instances_path, serial_port=None):
    cache = imagecache.ImageCache(instances_path, fetch=lambda _: [])
    driver = LibvirtDriver(config, cache)
    return driver.domain_spec(instance, paths.InstancePaths(instances_path, instance.uuid),
                              serial_port=serial_port)


@pytest.mark.parametrize("bus", ["ide", "virtio"])
@pytest.mark.parametrize("offloads", [False, True])
def test_every_variant_passes_the_schema(conn, compute_config, instances_path, bus, offloads):
    config = compute_conf.make(overrides={**{o.dest: compute_config.compute[o.dest]
                                             for o in compute_conf.OPTS},
                                          "config_drive_bus": bus, "nic_offloads": offloads})
    vifs = [Vif(id=str(uuid.uuid4()), mac="fa:16:3e:00:00:01", type="ovs", mtu=1450),
            Vif(id=str(uuid.uuid4()), mac="fa:16:3e:00:00:02", type="bridge", bridge="br-test"),
            Vif(id=str(uuid.uuid4()), mac="fa:16:3e:00:00:03", type="ethernet", bridge=None)]
    inst = _instance(vifs)
    port = 20000 + offloads if bus == "ide" else None  # TCP and pty serial ports
    dom = conn.defineXMLFlags(domain_xml.build(_spec(config, inst, instances_path, port)),
                              DEFINE_VALIDATE)
    try:
        assert dom.name() == paths.domain_name(inst.uuid)
        assert dom.UUIDString() == inst.uuid
    finally:
        dom.undefine()


def test_qemu_accepts_the_devices(conn, compute_config, instances_path, tmp_path):
    """Start (paused) a domain with an ethernet NIC with offloads off and a config drive."""
    inst = _instance([Vif(id=str(uuid.uuid4()), mac="fa:16:3e:00:00:09", type="ethernet",
                          bridge=None)])
    files = paths.InstancePaths(instances_path, inst.uuid)
    files.ensure_directory()
    base = imagecache.ImageCache(instances_path, fetch=lambda _: []).base_path(inst.image.id)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", base, "16M"], check=True)
    os.chmod(base, 0o644)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base,
                    files.disk], check=True)
    with open(files.config_drive, "wb") as drive:
        drive.truncate(1 << 20)
    port = SerialPorts(20000, 29999).choose(())
    dom = conn.defineXMLFlags(domain_xml.build(_spec(compute_config, inst, instances_path,
                                                     port)), DEFINE_VALIDATE)
    try:
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
        live = dom.XMLDesc(0)
        assert "csum='off'" in live and f"tap{inst.vifs[0].id[:11]}" in live
        assert domain_xml.serial_port(live) == port and domain_xml.vnc_port(live)
        assert not port_is_free("127.0.0.1", port)  # QEMU listens on the serial port
        # The owner tag reads back through virDomainGetMetadata.
        host = libvirt_host.Host(compute_config.compute.libvirt_uri)
        assert host.owner_of(inst.uuid, dom) == compute_config.host
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        shutil.rmtree(files.directory, ignore_errors=True)
    # The shared base was used read-only and left as it was: owned by root.
    assert os.stat(base).st_uid == 0
    os.unlink(base)
