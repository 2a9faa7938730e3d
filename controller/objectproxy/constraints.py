"""Swift's limits on names and metadata, and the 4xx answers when they are broken."""

from __future__ import annotations

import time

from common.objectstore.wsgi import HTTPError, Request

MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_HEADER_SIZE = 8192
MAX_OBJECT_NAME_LENGTH = 1024
MAX_CONTAINER_NAME_LENGTH = 256
MAX_ACCOUNT_NAME_LENGTH = 256
EXTRA_HEADER_COUNT = 0


def check_names(account: str, container: str | None, obj: str | None) -> None:
    """:raises HTTPError: 400 for an over-long name, 412 for a NUL character."""
    for kind, name, limit in (("Account", account, MAX_ACCOUNT_NAME_LENGTH),
                              ("Container", container, MAX_CONTAINER_NAME_LENGTH),
                              ("Object", obj, MAX_OBJECT_NAME_LENGTH)):
        if name is None:
            continue
        size = len(name.encode("utf-8"))
        if size > limit:
            raise HTTPError(400, f"{kind} name length of {size} longer than {limit}")
        if "\x00" in name:
            raise HTTPError(412, "Invalid UTF8 or contains NULL")


def check_metadata(req: Request, target: str) -> None:
    """Validate X-<target>-Meta-* headers of a PUT/POST (target: account/container/object).

    :raises HTTPError: 400 with Swift's message.
    """
    prefix = f"X-{target.capitalize()}-Meta-"
    count = size = 0
    for key, value in req.headers_with_prefix(prefix).items():
        name = key[len(prefix):]
        if not name:
            raise HTTPError(400, "Metadata name cannot be empty")
        count += 1
        size += len(name) + len(value)
        if len(name) > MAX_META_NAME_LENGTH:
            raise HTTPError(400, f"Metadata name too long: {prefix}{name}")
        if len(value) > MAX_META_VALUE_LENGTH:
            raise HTTPError(400, f"Metadata value longer than {MAX_META_VALUE_LENGTH}: "
                                 f"{prefix}{name}")
        if count > MAX_META_COUNT:
            raise HTTPError(400, f"Too many metadata items; max {MAX_META_COUNT}")
        if size > MAX_META_OVERALL_SIZE:
            raise HTTPError(400, f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")


def check_delete_headers(req: Request) -> int | None:
    """The X-Delete-At an object write asks for (X-Delete-After converted), or None.

    :raises HTTPError: 400 for non-integers or times in the past.
    """
    after = req.header("X-Delete-After")
    at = req.header("X-Delete-At")
    now = time.time()
    if after is not None:
        try:
            seconds = int(after)
        except ValueError as exc:
            raise HTTPError(400, "Non-integer X-Delete-After") from exc
        if seconds <= 0:
            raise HTTPError(400, "X-Delete-After in past")
        return int(now + seconds)
    if at is not None:
        try:
            when = int(at)
        except ValueError as exc:
            raise HTTPError(400, "Non-integer X-Delete-At") from exc
        if when <= now:
            raise HTTPError(400, "X-Delete-At in past")
        return when
    return None


def check_object_length(req: Request, max_file_size: int) -> int | None:
    """The upload's declared length (None when chunked).

    :raises HTTPError: 411 without length or chunked encoding, 413 when too large,
        400 when Content-Length is not a number.
    """
    length = req.content_length
    if length is None:
        if not req.chunked:
            raise HTTPError(411)
        return None
    if length > max_file_size:
        raise HTTPError(413, "Your request is too large.")
    return length
