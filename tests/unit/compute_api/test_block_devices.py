"""Block device mappings of a create request (syntax and boot sequence), guest device
names, and the conductor's connector naming, without a database."""

from __future__ import annotations

import pytest

from controller import exceptions
from controller.compute import block_device_mappings as bdms
from controller.compute import block_devices
from controller.conductor import volumes

IMAGE = "8c8bb2e4-6f5c-4b0e-9e53-1c2b7e7c0000"
VOLUME = "0b5d7a36-0d9f-4a55-8b8a-3f3a9f0e9c11"


def test_a_local_image_boot_has_no_mapping():
    assert block_devices.plan(IMAGE, None, None) == block_devices.BootPlan(IMAGE, [])
    local = [{"source_type": "image", "uuid": IMAGE, "destination_type": "local",
              "boot_index": "0"}]
    plan = block_devices.plan("", None, local)
    assert (plan.image_id, plan.mappings, plan.volume_backed) == (IMAGE, [], False)
    with pytest.raises(exceptions.BadRequest, match="Invalid imageRef"):
        block_devices.plan(None, None, None)


def test_boot_from_volume_plans():
    plan = block_devices.plan(None, None, [
        {"source_type": "image", "uuid": IMAGE, "destination_type": "volume",
         "boot_index": 0, "volume_size": "3", "delete_on_termination": "true"},
        {"source_type": "volume", "uuid": VOLUME, "device_name": "/dev/vdc"}])
    assert plan.volume_backed and plan.image_id is None
    root, data = plan.mappings
    assert (root.source_type, root.volume_size, root.delete_on_termination) == \
        ("image", 3, True)
    assert (data.source_type, data.boot_index, data.device_name) == \
        ("volume", None, "/dev/vdc")
    # imageRef naming the root volume's image is fine; the root is the volume.
    assert block_devices.plan(IMAGE, None, [
        {"source_type": "image", "uuid": IMAGE, "destination_type": "volume",
         "boot_index": 0}]).image_id is None
    # An image boot with a volume attached at boot.
    plan = block_devices.plan(IMAGE, None, [{"source_type": "volume", "uuid": VOLUME}])
    assert plan.image_id == IMAGE and not plan.volume_backed
    # Legacy v1: a volume on the root device, no image.
    plan = block_devices.plan(None, [{"volume_id": VOLUME, "device_name": "vda"}], None)
    assert plan.root.uuid == VOLUME and plan.root.source_type == "volume"


@pytest.mark.parametrize(("image", "items", "match"), [
    (None, [{"source_type": "volume", "uuid": VOLUME}], "Boot sequence"),
    (None, [{"source_type": "volume", "uuid": VOLUME, "boot_index": 1}], "Boot sequence"),
    (IMAGE, [{"source_type": "volume", "uuid": VOLUME, "boot_index": 2}], "Boot sequence"),
    (None, [{"source_type": "nfs", "uuid": VOLUME, "boot_index": 0}], "source_type"),
    (None, [{"source_type": "volume", "boot_index": 0}], "Missing device UUID"),
    (None, [{"source_type": "blank", "destination_type": "volume", "boot_index": 0}],
     "needs a volume_size"),
    (None, [{"source_type": "blank", "destination_type": "volume", "boot_index": 0,
             "volume_size": 0}], "positive"),
    (IMAGE, [{"source_type": "blank", "destination_type": "local", "volume_size": 1}],
     "not supported"),
    (IMAGE, [{"source_type": "image", "uuid": VOLUME, "destination_type": "local",
              "boot_index": 0}], "not imageRef"),
    (IMAGE, [{"source_type": "image", "uuid": VOLUME, "destination_type": "volume",
              "boot_index": 0}], "not imageRef"),
    (None, [{"source_type": "volume", "uuid": VOLUME, "boot_index": 0},
            {"source_type": "volume", "uuid": VOLUME}], "mapped twice"),
    (None, [{"source_type": "volume", "uuid": VOLUME, "boot_index": "x"}], "boot_index"),
])
def test_bad_mappings_are_400(image, items, match):
    with pytest.raises(exceptions.BadRequest, match=match):
        block_devices.plan(image, None, items)


def test_both_syntaxes_are_refused():
    with pytest.raises(exceptions.BadRequest, match="different block_device_mapping"):
        block_devices.plan(None, [{"volume_id": VOLUME}], [{"source_type": "volume"}])


def test_guest_device_names():
    assert bdms.device_hint(None) is None and bdms.device_hint("") is None
    assert bdms.device_hint("/dev/vdc") == "/dev/vdc" and bdms.device_hint("vdd") == "/dev/vdd"
    assert bdms.device_hint("/dev/sdb") is None  # well formed: the hypervisor chooses
    for bad in ("not a device", "/etc/passwd", "../vdb"):
        with pytest.raises(exceptions.BadRequest, match="device path"):
            bdms.device_hint(bad)
    assert bdms.next_device([]) == "/dev/vdb"
    assert bdms.next_device(["/dev/vda", "/dev/vdb"], "/dev/vdb") == "/dev/vdc"
    assert bdms.next_device(["/dev/vdb"], "/dev/vde") == "/dev/vde"
    assert bdms.next_device([], "/dev/vda") == "/dev/vdb"  # the root is never handed out
    every = [f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"]
    with pytest.raises(bdms.TooManyDevices) as caught:
        bdms.next_device(every)
    assert caught.value.code == 403


def test_the_initiator_is_named_after_the_host():
    assert volumes.initiator("compute-1") == "iqn.2010-10.org.stratus:compute-1"
    assert volumes.initiator("Node_7.example") == "iqn.2010-10.org.stratus:node-7.example"
    assert volumes.initiator("__") is None
    assert volumes.short_device("/dev/vdb") == "vdb" and volumes.short_device(None) is None
