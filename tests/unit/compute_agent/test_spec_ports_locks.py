"""Instance.from_spec, serial port choice, per-instance locks."""

from __future__ import annotations

import base64
import random
import socket
import threading

import pytest

from agents.compute import conf as compute_conf
from agents.compute.exception import HypervisorError, InvalidInput
from agents.compute.locks import InstanceLocks
from agents.compute.model import Instance
from agents.compute.serial_ports import SerialPorts, port_is_free
from tests.unit.compute_agent import helpers
from tests.unit.compute_agent.test_manager import spec


def test_from_spec_maps_every_field():
    data = spec(uuid="8D3F0C3E-6B1D-4C2A-9F0E-1234567890AB", config_drive=True,
                launch_index=2, vifs=[{"id": helpers.vif(1).id, "mac": "FA:16:3E:00:00:01",
                                       "type": "ovs", "bridge": None, "mtu": 1450,
                                       "network_id": None}])
    inst = Instance.from_spec(data)
    assert inst.uuid == "8d3f0c3e-6b1d-4c2a-9f0e-1234567890ab"
    assert (inst.flavor.memory_mb, inst.flavor.vcpus, inst.flavor.root_gb) == (64, 1, 1)
    assert inst.image.id == helpers.IMAGE_ID and inst.image.disk_format == "qcow2"
    assert inst.user_data == b"#!/bin/sh\necho hi\n"
    assert inst.public_keys == {"k": "ssh-ed25519 AAAA k"} and inst.metadata == {"a": "b"}
    assert inst.config_drive and inst.launch_index == 2 and inst.hostname == "vm1"
    (vif,) = inst.vifs
    assert vif.mac == "fa:16:3e:00:00:01" and vif.bridge == "br-int" and vif.mtu == 1450
    minimal = Instance.from_spec({"uuid": data["uuid"], "name": "x", "project_id": "p",
                                  "flavor": {"name": "f", "memory_mb": 64, "vcpus": 1},
                                  "image": {"id": helpers.IMAGE_ID}})
    assert minimal.user_data is None and minimal.flavor.root_gb == 0 and minimal.vifs == ()


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"uuid": "../etc"}, InvalidInput, "not a UUID"),
    ({"flavor": {"name": "f"}}, InvalidInput, "malformed.*memory_mb"),
    ({"flavor": {"name": "f", "memory_mb": "lots", "vcpus": 1}}, InvalidInput, "malformed"),
    ({"user_data": base64.b64encode(b"x").decode() + "!"}, InvalidInput, "base64"),
    ({"image": None}, InvalidInput, "neither an image nor a root volume"),
    ({"volumes": [{"id": "v"}]}, InvalidInput, "malformed"),
    ({"volumes": [{"volume_id": helpers.IMAGE_ID, "device": "vda", "boot_index": 0,
                   "connection_info": {}}]}, InvalidInput, "more than one root"),
    ({"volumes": [{"volume_id": helpers.IMAGE_ID, "device": "../x",
                   "connection_info": {}}]}, InvalidInput, "not a virtio disk name"),
    ({"image": {"id": helpers.IMAGE_ID, "disk_format": "vmdk"}}, InvalidInput, "vmdk"),
    ({"vifs": [{"id": helpers.vif(0).id, "mac": "nope"}]}, InvalidInput, "MAC"),
])
def test_from_spec_refuses_bad_specs(change, error, match):
    with pytest.raises(error, match=match):
        Instance.from_spec(spec(**change))
    with pytest.raises(InvalidInput):
        Instance.from_spec(["not", "a", "dict"])


def test_serial_port_choice():
    ports = SerialPorts(10000, 10003, is_free=lambda host, port: port != 10002,
                        rng=random.Random(1))
    assert ports.choose(used={10000, 10001}) == 10003
    with pytest.raises(HypervisorError, match="serial_port_range"):
        ports.choose(used={10000, 10001, 10003})
    with socket.socket() as sock:  # a port something listens on is not free
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not port_is_free("127.0.0.1", sock.getsockname()[1])
    conf = compute_conf.make(overrides={"serial_port_range": "20000:20010"})
    assert compute_conf.serial_port_range(conf) == (20000, 20010)
    conf = compute_conf.make(overrides={"serial_port_range": "9:1"})
    with pytest.raises(ValueError, match="MIN:MAX"):
        compute_conf.serial_port_range(conf)


def test_instance_locks():
    locks = InstanceLocks()
    with locks.hold("a"):
        assert locks.busy() == {"a"}
        with locks.hold("b"), locks.hold("a", blocking=False) as got:
            assert got is False and locks.busy() == {"a", "b"}
        entered = threading.Event()

        def other():
            with locks.hold("a"):
                entered.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert not entered.wait(0.1)  # waits for the holder
    thread.join(5)
    assert entered.is_set() and locks.busy() == set()
