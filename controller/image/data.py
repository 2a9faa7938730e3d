"""Image data: streamed upload with size and hash verification, and streamed download.

Upload moves the image queued -> saving -> active. Data that fails its integrity check
(an md5 or sha512 the client declared does not match) kills the image, as Glance does
for a bad signature; any other failure (too large, short, client gone, store full)
puts it back to queued so the client can simply upload again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from common.context import RequestContext
from controller import exceptions
from controller.db.base import utcnow
from controller.db.models.image import Image
from controller.image import access, formats, images, states, store
from controller.runtime import Runtime

LOG = logging.getLogger(__name__)
HASH_ALGO = "sha512"


class ImageGone(exceptions.StratusError):
    code = 410
    title = "Gone"


class IntegrityFailure(exceptions.BadRequest):
    """The stored bytes do not hash to what the client declared."""


@dataclasses.dataclass(frozen=True)
class Expected:
    """What the client declared about the data it sends; None means not declared."""

    size: int | None = None
    checksum: str | None = None  # md5, hex
    os_hash_value: str | None = None  # sha512, hex


class _Meter:
    """Counts bytes as they stream past, stopping at the cap or the declared size."""

    def __init__(self, cap: int, expected: int | None):
        self.cap, self.expected = cap, expected
        self.size = 0
        self.head = b""

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.expected is not None and self.size > self.expected:
                raise exceptions.BadRequest(
                    f"The request carries more data than the {self.expected} bytes declared.")
            if self.size > self.cap:
                raise exceptions.RequestEntityTooLarge(
                    f"The incoming image is too large: the limit is {self.cap} bytes.")
            if len(self.head) < formats.HEAD_BYTES:
                self.head += chunk[:formats.HEAD_BYTES - len(self.head)]
            yield chunk


def _begin(rt: Runtime, ctx: RequestContext, image_id: str) -> None:
    with rt.db.session() as session:
        image = access.mutable(session, ctx, image_id)
        if not image.disk_format or not image.container_format:
            raise exceptions.BadRequest("Properties disk_format, container_format must be "
                                        "set prior to saving data.")
        states.check(image.status, states.SAVING)
        # Compare-and-set, so that of two uploads racing for one image exactly one wins
        # even where the database ignores SELECT ... FOR UPDATE (SQLite).
        moved = session.execute(sa.update(Image).where(
            Image.id == image_id, Image.status == states.QUEUED).values(
            status=states.SAVING, updated_at=utcnow()))
        if moved.rowcount != 1:
            raise exceptions.Conflict(f"Image status transition from {states.SAVING} to "
                                      f"{states.SAVING} is not allowed")


def _end(rt: Runtime, image_id: str, status: str) -> None:
    """Leave saving for status, unless someone else moved (or deleted) the image first."""
    try:
        with rt.db.session() as session:
            session.execute(sa.update(Image).where(
                Image.id == image_id, Image.status == states.SAVING).values(
                status=status, updated_at=utcnow()))
    except Exception:  # noqa: BLE001 - the original failure is what the client must see
        LOG.exception("could not move image %s back to %s", image_id, status)


def _discard(backend: store.Store, image_id: str) -> None:
    try:
        backend.delete(image_id)
    except store.StoreError:
        LOG.exception("could not remove the rejected data of image %s", image_id)


def _verify(stored: store.StoredData, expected: Expected) -> None:
    if expected.size is not None and stored.size != expected.size:
        raise exceptions.BadRequest(f"Size of uploaded data ({stored.size} bytes) does not "
                                    f"match the declared size ({expected.size} bytes).")
    for name, got, want in (("checksum", stored.md5, expected.checksum),
                            ("os_hash_value", stored.sha512, expected.os_hash_value)):
        if want is not None and got != want.lower():
            raise IntegrityFailure(f"Image {name} verification failed: the data hashes to "
                                   f"{got}, the client declared {want}.")


def _finish(rt: Runtime, image_id: str, stored: store.StoredData, head: bytes) -> Image:
    with rt.db.session() as session:
        image = session.scalars(
            sa.select(Image).where(Image.id == image_id).with_for_update()).first()
        if image is None or image.status != states.SAVING:
            raise ImageGone(f"Image {image_id} could not be found after upload. The image "
                            "may have been deleted during the upload.")
        states.check(image.status, states.ACTIVE)
        image.status, image.updated_at = states.ACTIVE, utcnow()
        image.size, image.checksum = stored.size, stored.md5
        image.os_hash_algo, image.os_hash_value = HASH_ALGO, stored.sha512
        image.virtual_size = formats.virtual_size(image.disk_format, head, stored.size)
        session.flush()
        return image


def upload(rt: Runtime, ctx: RequestContext, image_id: str, chunks: Iterable[bytes],
           expected: Expected = Expected()) -> Image:
    """Stream chunks into the store as image_id's data and activate the image.

    :raises NotFound/Forbidden: as for an update.
    :raises Conflict: the image is not queued (an upload is running, or data exists).
    :raises BadRequest: formats unset, size mismatch; IntegrityFailure on a hash mismatch.
    :raises RequestEntityTooLarge: beyond `[image] image_size_cap`, or the store is full.
    :raises ImageGone: the image was deleted while its data streamed in.
    """
    cap = rt.conf.image.image_size_cap
    if expected.size is not None and expected.size > cap:
        raise exceptions.RequestEntityTooLarge(
            f"The incoming image is too large: {expected.size} bytes declared, the limit "
            f"is {cap} bytes.")
    _begin(rt, ctx, image_id)
    backend = store.get_store(rt.conf)
    meter = _Meter(cap, expected.size)
    stored = None
    try:
        stored = backend.add(image_id, meter.feed(chunks))
        _verify(stored, expected)
        image = _finish(rt, image_id, stored, meter.head)
    except BaseException as exc:
        if isinstance(exc, exceptions.StratusError) and exc.code >= 500:
            LOG.error("upload of image %s failed: %s", image_id, exc.message,
                      exc_info=exc.__cause__ or exc)
        if stored is not None:
            _discard(backend, image_id)
        _end(rt, image_id, states.KILLED if isinstance(exc, IntegrityFailure)
             else states.QUEUED)
        raise
    body = images.payload(image)
    rt.notify(ctx, "image.upload", body)
    rt.notify(ctx, "image.activate", body)
    return image


def download(rt: Runtime, ctx: RequestContext, image_id: str, offset: int = 0,
             length: int | None = None) -> tuple[Image, Iterator[bytes] | None]:
    """image_id and an iterator over its data (None when it has none to give).

    :raises NotFound: not visible to ctx.
    :raises Forbidden: the image is deactivated and ctx is not an administrator.
    """
    image = images.get(rt, ctx, image_id)
    if image.status == states.DEACTIVATED and not ctx.is_admin:
        raise exceptions.Forbidden("The requested image has been deactivated. Image data "
                                   "download is forbidden.")
    if image.status not in states.WITH_DATA:
        return image, None
    try:
        return image, store.get_store(rt.conf).get(image_id, offset, length)
    except store.DataNotFound:
        LOG.error("image %s is %s but the store holds no data for it", image_id,
                  image.status)
        return image, None
    except store.StoreError as exc:
        LOG.error("could not read image %s: %s", image_id, exc.message,
                  exc_info=exc.__cause__ or exc)
        raise
