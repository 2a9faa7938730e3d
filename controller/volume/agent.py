"""The client for the volume agents, and the payloads the RPC contract defines.

The client is made on first use and kept on the runtime as ``rt.volume_agent_api``;
tests put a recorder there by assignment (as they do for the other RPC clients).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from common import messaging
from common.rpc.volume import VolumeAgentAPI
from controller.db.models.volume import Volume, VolumeAttachment
from controller.runtime import Runtime
from controller.volume import errors

# oslo.messaging, as common.messaging imports it (with its eventlet warning quieted).
oslo_messaging = messaging.messaging
CONNECTOR_KEYS = ("host", "ip", "initiator")


def api(rt: Runtime) -> VolumeAgentAPI:
    """The runtime's volume agent client."""
    client = rt.__dict__.get("volume_agent_api")
    if client is None:
        client = VolumeAgentAPI(rt.conf)
        rt.volume_agent_api = client  # type: ignore[attr-defined]
    return client


def volume_payload(volume: Volume, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The volume as create_volume expects it (see common.rpc.volume)."""
    return {"id": volume.id, "size": volume.size, "project_id": volume.project_id,
            "volume_type_id": volume.volume_type_id, "name": volume.name,
            "source": source or {"type": "blank", "id": None, "image": None},
            "provider_location": volume.provider_location}


def connector(given: dict[str, Any]) -> dict[str, Any]:
    """The part of a consumer's connector the agent uses to make or remove an export."""
    return {key: given.get(key) for key in CONNECTOR_KEYS}


def exports(attachments: list[VolumeAttachment]) -> list[dict[str, Any]]:
    """The connectors a volume should be exported to (volumes_on_backend)."""
    return [connector(a.connector) for a in attachments if a.connector]


@contextlib.contextmanager
def calling(backend: str, what: str) -> Iterator[None]:
    """Translate the failures of an RPC call to an agent, once, into API errors.

    :raises BackendUnavailable: (503) the agent did not answer.
    :raises BackendFailed: (500) the agent answered with an error.
    """
    try:
        yield
    except oslo_messaging.MessagingTimeout as exc:
        raise errors.BackendUnavailable(
            f"The volume agent {backend} did not answer in time to {what}; check that it "
            "is running.") from exc
    except oslo_messaging.RemoteError as exc:
        raise errors.BackendFailed(
            f"The volume agent {backend} could not {what}: {exc.exc_type}: {exc.value}") \
            from exc
    except oslo_messaging.MessagingException as exc:
        raise errors.BackendUnavailable(
            f"The volume agent {backend} could not be reached to {what}: {exc}") from exc
