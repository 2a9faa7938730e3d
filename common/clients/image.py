"""Image data through the image API (v2), streamed: never a whole image in memory.

``download`` feeds the compute agent's image cache, ``upload`` its snapshots; the
volume agent shares both (volumes from images, images from volumes).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator

import requests
from oslo_config import cfg

from common.clients.errors import ServiceError, from_response
from common.clients.identity import ServiceAuth

LOG = logging.getLogger(__name__)
SERVICE = "image"


class ImageClient:
    """Image data as the service user."""

    def __init__(self, conf: cfg.ConfigOpts, auth: ServiceAuth):
        self._opts = conf.image_client
        self.auth = auth

    def endpoint(self) -> str:
        """The image API's base URL (without /v2).

        :raises ServiceError: no endpoint (see ServiceAuth.endpoint).
        """
        override = self._opts.endpoint_override
        return override.rstrip("/") if override else self.auth.endpoint(SERVICE)

    def download(self, image_id: str) -> Iterator[bytes]:
        """The image's data as chunks of ``[image_client] chunk_size`` bytes.

        The request is made now (so a missing image raises here); the body is read as
        the chunks are consumed. Closing the iterator early closes the connection.

        :raises ServiceError: the image is unknown (404), has no data yet (204), or the
            service failed; also raised by the iterator when the transfer breaks.
        """
        url = self._file_url(image_id)
        response = self._send("GET", url, stream=True, retry_auth=True)
        if response.status_code == 204:
            response.close()
            raise ServiceError(SERVICE, 204, f"image {image_id} has no data yet; upload it "
                                             "first")
        if response.status_code != 200:
            error = from_response(SERVICE, response, f"downloading image {image_id} failed")
            response.close()
            raise error
        return self._chunks(image_id, response)

    def upload(self, image_id: str, chunks: Iterable[bytes]) -> None:
        """Store chunks as the image's data (chunked transfer encoding, no length).

        The image must exist and be queued. The stream cannot be replayed, so a 401
        is not retried: the token is refreshed before it could expire instead.

        :raises ServiceError: the image service refused or failed the upload.
        """
        url = self._file_url(image_id)
        response = self._send("PUT", url, data=_passthrough(chunks), retry_auth=False,
                              headers={"Content-Type": "application/octet-stream"})
        try:
            if response.status_code not in (201, 204):
                raise from_response(SERVICE, response, f"uploading image {image_id} failed")
        finally:
            response.close()
        LOG.info("uploaded the data of image %s", image_id)

    # ---------------------------------------------------------------- private
    def _file_url(self, image_id: str) -> str:
        try:
            canonical = str(uuid.UUID(str(image_id)))
        except ValueError:
            raise ServiceError(SERVICE, None, f"{image_id!r} is not an image id") from None
        return f"{self.endpoint()}/v2/images/{canonical}/file"

    def _send(self, method: str, url: str, retry_auth: bool, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (1, 2):
            headers["X-Auth-Token"] = self.auth.token().id
            try:
                response = self.auth.session.request(method, url, headers=headers,
                                                     timeout=self.auth.timeout, **kwargs)
            except requests.RequestException as exc:
                raise ServiceError(SERVICE, None, f"{method} {url} failed: {exc}") from exc
            if response.status_code == 401:
                self.auth.invalidate()
                if retry_auth and attempt == 1:
                    response.close()
                    continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _chunks(self, image_id: str, response: requests.Response) -> Iterator[bytes]:
        try:
            for chunk in response.iter_content(chunk_size=self._opts.chunk_size):
                if chunk:
                    yield chunk
        except requests.RequestException as exc:
            raise ServiceError(SERVICE, None, f"the download of image {image_id} broke off: "
                                              f"{exc}") from exc
        finally:
            response.close()


def _passthrough(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """chunks as a generator (requests sends a generator with chunked encoding)."""
    for chunk in chunks:
        if chunk:
            yield chunk
