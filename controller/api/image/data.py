"""/v2/images/{id}/file: upload and download image data, streamed in chunks.

Neither direction holds more than `[image] chunk_size` bytes of image data in memory.
Uploads may use Content-Length or chunked transfer encoding; clients may declare the
data's size (X-OpenStack-Image-Size, as openstacksdk sends), md5 (Content-MD5, hex or
base64, or X-Image-Meta-Checksum) and sha512 (X-Image-Meta-Os-Hash-Value), and the
upload is refused when the stored bytes disagree.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

import flask

from controller import exceptions
from controller.api import handler
from controller.api.image import bp, common
from controller.image import data

_HEX = re.compile(r"^[0-9a-fA-F]+$")


class RangeNotSatisfiable(exceptions.StratusError):
    code = 416
    title = "Requested Range Not Satisfiable"


def _md5_header(value: str | None) -> str | None:
    """A declared md5 as hex: Glance sends hex in Content-MD5, RFC 1864 says base64."""
    if value is None:
        return None
    value = value.strip()
    if len(value) == 32 and _HEX.match(value):
        return value.lower()
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise exceptions.BadRequest("Content-MD5 must be an md5 digest in hex or base64.")
    return digest.hex()


def _hex_header(name: str, length: int) -> str | None:
    value = flask.request.headers.get(name)
    if value is None:
        return None
    value = value.strip()
    if len(value) != length or not _HEX.match(value):
        raise exceptions.BadRequest(f"{name} must be {length} hexadecimal digits.")
    return value.lower()


def _declared_size() -> int | None:
    length = flask.request.content_length
    hint = flask.request.headers.get("X-OpenStack-Image-Size")
    if hint is not None:
        try:
            size = int(hint)
        except ValueError:
            raise exceptions.BadRequest("X-OpenStack-Image-Size must be an integer.") from None
        if size < 0 or (length is not None and size != length):
            raise exceptions.BadRequest("X-OpenStack-Image-Size does not match the data "
                                        "sent.")
        return size
    return length


def _chunks(chunk_size: int) -> Iterator[bytes]:
    stream = flask.request.stream
    while True:
        try:
            chunk = stream.read(chunk_size)
        except OSError as exc:  # the server's socket reader: the client went away
            raise exceptions.BadRequest(f"The upload was interrupted: {exc}.") from exc
        if not chunk:
            return
        yield chunk


@bp.put("/v2/images/<image_id>/file", endpoint="upload_data")
def upload_data(image_id: str):
    ctx, _ = common.authorized_image("image:upload_image", image_id)
    media_type = (flask.request.mimetype or "").lower()
    if media_type != "application/octet-stream":
        raise exceptions.UnsupportedMediaType(
            f"Content type {media_type or 'None'} is not supported; image data must be "
            "sent as application/octet-stream.")
    md5 = _hex_header("X-Image-Meta-Checksum", 32) or \
        _md5_header(flask.request.headers.get("Content-MD5"))
    expected = data.Expected(size=_declared_size(), checksum=md5,
                             os_hash_value=_hex_header("X-Image-Meta-Os-Hash-Value", 128))
    rt = handler.runtime()
    data.upload(rt, ctx, image_id, _chunks(rt.conf.image.chunk_size), expected)
    return handler.no_content()


def _range(size: int) -> tuple[int, int] | None:
    """The (start, stop) a Range header asks for, or None for the whole image.

    A Range header that does not parse, or asks for several ranges, is ignored (RFC
    9110 allows it) and the whole image is sent.
    """
    wanted = flask.request.range
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return None
    span = wanted.range_for_length(size)
    if span is None:
        error = RangeNotSatisfiable(f"Requested range not satisfiable; the image has "
                                    f"{size} bytes.")
        error.headers = {"Content-Range": f"bytes */{size}"}
        raise error
    return span


@bp.get("/v2/images/<image_id>/file")
def download_data(image_id: str):
    ctx, image = common.authorized_image("image:download_image", image_id)
    size = image.size or 0
    span = _range(size) if image.size is not None else None
    start, stop = span or (0, size)
    image, chunks = data.download(handler.runtime(), ctx, image_id, start, stop - start)
    if chunks is None:
        return handler.no_content()
    response = flask.Response(chunks, mimetype="application/octet-stream",
                              direct_passthrough=True)
    response.headers["Content-Length"] = str(stop - start)
    if image.checksum:
        response.headers["Content-MD5"] = image.checksum
    if span is not None:
        response.status_code = 206
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response
