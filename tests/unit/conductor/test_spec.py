"""The instance spec the conductor sends agents, built from the database."""

from __future__ import annotations

import base64

import pytest

from agents.compute import model
from controller.conductor import instances, spec
from tests.unit.conductor import seed


@pytest.fixture
def boot(rt):
    ctx = seed.user_ctx()
    image_id = seed.image(rt)
    flavor = seed.flavor(rt, memory_mb=256, vcpus=2, root_gb=3,
                         extra_specs={"hw:cpu_policy": "shared"})
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    uuid = seed.instance(rt, ctx, flavor, image_id, key_name="k1",
                         key_data="ssh-ed25519 AAAAC3Nz me@host", user_data=user_data,
                         config_drive=True, metadata={"role": "web"}, launch_index=2)
    return ctx, uuid, image_id, flavor, user_data


def test_spec_carries_everything_the_agent_needs(rt, boot):
    ctx, uuid, image_id, flavor, user_data = boot
    body = spec.build(rt, ctx, instances.get(rt, uuid))
    assert body["uuid"] == uuid and body["project_id"] == seed.PROJECT
    assert body["flavor"] == {"name": flavor["name"], "memory_mb": 256, "vcpus": 2,
                              "root_gb": 3}
    assert body["image"] == {"id": image_id, "disk_format": "qcow2",
                             "os_hash_algo": "sha512", "os_hash_value": "ab" * 64,
                             "checksum": "cd" * 16}
    assert body["public_keys"] == {"k1": "ssh-ed25519 AAAAC3Nz me@host"}
    assert body["metadata"] == {"role": "web"}
    assert body["user_data"] == user_data and body["config_drive"] is True
    assert body["launch_index"] == 2
    assert body["vifs"] == [] and body["volumes"] == []
    # the agent's own parser accepts it as is
    parsed = model.Instance.from_spec(body)
    assert parsed.uuid == uuid and parsed.flavor.memory_mb == 256
    assert parsed.user_data == b"#!/bin/sh\necho hi\n"


def test_spec_with_another_flavor_and_image(rt, boot):
    ctx, uuid, _, _, _ = boot
    bigger = seed.flavor(rt, memory_mb=512, vcpus=4, root_gb=5)
    other = seed.image(rt, disk_format="raw")
    body = spec.build(rt, ctx, instances.get(rt, uuid), flavor=bigger, image_id=other)
    assert body["flavor"]["memory_mb"] == 512 and body["flavor"]["vcpus"] == 4
    assert body["image"]["id"] == other and body["image"]["disk_format"] == "raw"


def test_image_of_another_project_is_still_usable(rt, boot):
    # the API checked access at boot; a reschedule must not be refused by visibility
    ctx, uuid, _, _, _ = boot
    foreign = seed.image(rt, owner="someone-else")
    assert spec.build(rt, ctx, instances.get(rt, uuid), image_id=foreign)["image"]["id"] \
        == foreign


@pytest.mark.parametrize("case, message", [
    ("missing", "could not be found"),
    ("queued", "is queued, not active"),
    ("none", "neither an image nor a root volume"),
])
def test_unusable_images_are_spec_errors(rt, boot, case, message):
    ctx, uuid, _, _, _ = boot
    row = instances.get(rt, uuid)
    image_id = {"missing": "7b1a8c1e-0000-4000-8000-000000000000",
                "queued": seed.image(rt, status="queued"), "none": None}[case]
    row.image_ref = image_id
    with pytest.raises(spec.SpecError, match=message):
        spec.build(rt, ctx, row)


def test_flavor_copy(rt):
    flavor = seed.flavor(rt, memory_mb=64, extra_specs={"a": "b"})
    copy = spec.flavor_copy(rt, seed.user_ctx(), flavor["id"])
    assert copy == flavor
    with pytest.raises(spec.SpecError, match="could not be found"):
        spec.flavor_copy(rt, seed.user_ctx(), "nope")
