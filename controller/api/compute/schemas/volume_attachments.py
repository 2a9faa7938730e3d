"""JSON schemas of ``os-volume_attachments`` bodies, per microversion (Nova's)."""

from __future__ import annotations

import functools
from typing import Any

from controller.api.compute.schemas.servers import TAG

VOLUME_ID = {"type": "string", "format": "uuid"}
# Nova's device path syntax; the hypervisor picks the real device anyway.
DEVICE = {"type": ["string", "null"],
          "pattern": r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}


@functools.cache
def create(with_tag: bool) -> dict[str, Any]:
    """POST: volumeId, device; tag from 2.49 (delete_on_termination is 2.79, not served)."""
    properties: dict[str, Any] = {"volumeId": VOLUME_ID, "device": DEVICE}
    if with_tag:
        properties["tag"] = TAG
    return {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
            "properties": {"volumeAttachment": {
                "type": "object", "properties": properties, "required": ["volumeId"],
                "additionalProperties": False}}}


UPDATE = {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
          "properties": {"volumeAttachment": {
              "type": "object", "properties": {"volumeId": VOLUME_ID, "device": DEVICE},
              "required": ["volumeId"], "additionalProperties": False}}}
