"""Real guests on the agents' network: QEMU (TCG) booting the stratus-tiny image through
the compute agent's libvirt driver, their NICs plugged into the integration bridge by
libvirt (OVS virtualport, iface-id = port id), against the real network service.

Each guest leases the address the API allocated, reads its own metadata over
169.254.169.254 (no config drive: the instance id in its ready line comes from the
metadata API through the proxy), runs its user data (pinging the other guest) and is
reached from the external network through its floating IP.

Boots VMs: run under the shared lock,
``flock /tmp/stratus-vm.lock pytest tests/functional/network_agent/test_real_guests.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from agents.compute import conf as compute_conf
from agents.compute import model
from controller.network import compute_ports
from tests.functional.network_agent.netenv import ExternalHost, wait_until
from tests.functional.network_agent.service import (
    Api,
    build_world,
    destroy_world,
    new_instance,
    set_user_data,
)

pytestmark = pytest.mark.usefixtures("ovs_host")
IMAGE = os.environ.get("STRATUS_GUEST_IMAGE", "/var/lib/stratus/guest/stratus-tiny.qcow2")
IMAGE_ID = "7d0c8a4e-2b1f-4c3d-9e5a-6f7b8c9d0e1f"
BOOT_TIMEOUT = 180


@pytest.fixture(scope="module")
def driver():
    libvirt_driver = pytest.importorskip("agents.compute.libvirt_driver",
                                         reason="libvirt-python is not installed")
    if not os.path.isfile(IMAGE):
        pytest.skip(f"no guest image at {IMAGE} (tools/build-guest-image.sh)")
    if shutil.which("virsh") is None or subprocess.run(
            ["virsh", "-c", "qemu:///system", "version"], capture_output=True,
            timeout=30).returncode != 0:
        pytest.skip("libvirtd does not answer at qemu:///system")
    parent = tempfile.mkdtemp(prefix="stratus-net-guests-")
    os.chmod(parent, 0o755)  # QEMU's own user reaches the disks by path

    def fetch(image_id):
        with open(IMAGE, "rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk

    conf = compute_conf.make(overrides={
        "instances_path": os.path.join(parent, "instances"), "virt_type": "qemu",
        "libvirt_uri": "qemu:///system", "shutdown_timeout": 0,
        # These guests must find their identity and script over 169.254.169.254.
        "force_config_drive": False})
    yield libvirt_driver.LibvirtDriver.from_conf(conf, fetch)
    shutil.rmtree(parent, ignore_errors=True)


def _image() -> model.ImageRef:
    with open(IMAGE, "rb") as handle:
        digest = hashlib.sha512(handle.read()).hexdigest()
    return model.ImageRef(IMAGE_ID, disk_format="qcow2", os_hash_algo="sha512",
                          os_hash_value=digest)


def _console(driver, instance: str, text: str) -> str:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        log = driver.get_console_output(instance, max_bytes=1 << 20)
        if text in log:
            return log
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not on the console of {instance} within "
                        f"{BOOT_TIMEOUT}s; tail:\n{log[-2500:]}")
        time.sleep(0.5)


def test_real_guests_lease_read_metadata_and_ping(bare_netenv, service, driver):
    env, cloud = bare_netenv, service
    rt = cloud.rt
    threads = [env.start(agent) for agent in (env.ovs_agent(), env.dhcp_agent(),
                                              env.l3_agent(), env.metadata_agent())]
    admin = Api(cloud, cloud.admin())
    wait_until("the agents to register", lambda: len(admin("GET", "/agents")["agents"]) >= 4)
    wait_until("the bridges", lambda: threads[0].agent.syncs)
    world = build_world(env, cloud, cidr="10.30.0.0/24")
    image = _image()
    names = ("guest1", "guest2")
    # The ports first: each guest's user data pings the other one's address.
    placeholders = {n: new_instance(rt, world.project, n) for n in names}
    vifs = {n: compute_ports.allocate_for_instance(
        rt, world.ctx, placeholders[n], world.project,
        [{"network_id": world.private["id"]}], None, env.host)[0] for n in names}
    ips = {n: vifs[n]["fixed_ips"][0]["ip_address"] for n in names}
    booted = []
    try:
        for name, other in zip(names, reversed(names), strict=True):
            script = ("#!/bin/sh\nfor i in $(seq 60); do\n"
                      f"  if ping -c 1 -W 1 {ips[other]} >/dev/null; then\n"
                      f"    echo PING-OK {ips[other]}; exit 0\n  fi\n  sleep 1\ndone\n"
                      f"echo PING-FAILED {ips[other]}\n")
            instance = placeholders[name]
            set_user_data(rt, instance, script)
            vif = vifs[name]
            driver.spawn(model.Instance(
                uuid=instance, name=name, project_id=world.project,
                flavor=model.Flavor("m1.nano", 128, 1, 1), image=image,
                availability_zone="nova", config_drive=False, vifs=(model.Vif(
                    id=vif["id"], mac=vif["mac"], type="ovs", bridge=env.names["int"],
                    mtu=vif["mtu"], network_id=vif["network_id"]),)))
            booted.append(instance)
        for name in names:
            instance = placeholders[name]
            log = _console(driver, instance, "stratus-guest ready:")
            # The instance id comes from the metadata API (no config drive here).
            assert f"stratus-guest ready: instance-id={instance} addresses={ips[name]}" \
                in log, log[-2500:]
        for name, other in zip(names, reversed(names), strict=True):
            assert f"PING-OK {ips[other]}" in _console(driver, placeholders[name], "PING-")
        fip = world.demo("POST", "/floatingips", {"floatingip": {
            "floating_network_id": world.public["id"], "port_id": vifs["guest1"]["id"]}},
            201)["floatingip"]["floating_ip_address"]
        ext = ExternalHost(env, f"172.31.{world.octet}.200/24")
        env.vms.append(ext)
        assert wait_until("the floating IP of a real guest", lambda: ext.ping(fip),
                          timeout=60)
    finally:
        for instance in booted:
            driver.destroy(instance)
    for name in names:
        compute_ports.deallocate_for_instance(rt, world.ctx, placeholders[name])
    destroy_world(world)
    wait_until("the namespaces to go", lambda: env.our_namespaces() == [], timeout=60)
