"""Builders shared by the compute agent unit tests."""

from __future__ import annotations

import uuid

from agents.compute import model

IMAGE_ID = "3f6f2a2e-1c1b-4d55-9e59-0d8a1a7e6c11"
PROJECT_ID = "5a8c2b6e0a5b4f7c9a2e1d3c4b5a6978"


def instance(**overrides) -> model.Instance:
    """A valid instance; keyword arguments replace fields."""
    fields = {
        "uuid": str(uuid.uuid4()),
        "name": "vm1",
        "project_id": PROJECT_ID,
        "user_id": "u-1",
        "flavor": model.Flavor("m1.nano", 64, 1, 1),
        "image": model.ImageRef(IMAGE_ID),
        "availability_zone": "nova",
    }
    fields.update(overrides)
    return model.Instance(**fields)


def vif(index: int = 0, **overrides) -> model.Vif:
    fields = {
        # The index in the leading digits: the tap name keeps only the first 11.
        "id": f"{index:08x}-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
        "mac": f"fa:16:3e:00:00:{index:02x}",
        "network_id": str(uuid.UUID(int=0xB0000000000000000000000000000000 + index)),
        "mtu": 1450,
    }
    fields.update(overrides)
    return model.Vif(**fields)


class Clock:
    """A monotonic clock and sleep that only move when a test sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
