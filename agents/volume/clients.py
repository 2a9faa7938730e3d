"""The other services the agent talks to, as the callables the agent's modules take.

- image data: ``fetch(image_id) -> Iterable[bytes]`` and ``upload(image_id, chunks)``
  (:class:`common.clients.image.ImageClient`);
- the object storage account for backups: ``token_provider(force_new) -> (token,
  account URL)`` with the service user's token (:class:`common.clients.identity.
  ServiceAuth`); the URL is ``[backup] swift_url`` (``%(project_id)s`` replaced by the
  token's project) or the catalog's ``object-store`` endpoint.

Tests hand the agent their own callables instead.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any

from oslo_config import cfg

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Clients:
    fetch: Callable[[str], Iterable[bytes]] | None = None
    upload: Callable[[str, Iterable[bytes]], Any] | None = None
    token_provider: Callable[[bool], tuple[str, str]] | None = None


def from_conf(conf: cfg.ConfigOpts) -> Clients:
    """Clients acting as the ``[service_auth]`` user.

    Without ``common.clients`` (an install that predates it) the agent still serves
    blank/snapshot/clone volumes and file backups; image copies and swift backups then
    fail with a message naming what is missing.
    """
    try:
        from common.clients.identity import ServiceAuth
        from common.clients.image import ImageClient
    except ImportError:
        LOG.warning("common.clients is not available: volumes from images, uploads to "
                    "images and swift backups are disabled")
        return Clients()
    auth = ServiceAuth(conf)
    images = ImageClient(conf, auth)

    def token_provider(force_new: bool) -> tuple[str, str]:
        if force_new:
            auth.invalidate()
        token = auth.token()
        override = conf.backup.swift_url
        if override:
            return token.id, override % {"project_id": token.project_id}
        return token.id, auth.endpoint("object-store")

    return Clients(fetch=images.download, upload=images.upload, token_provider=token_provider)
