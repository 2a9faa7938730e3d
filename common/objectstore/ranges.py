"""HTTP Range headers with Swift's rules.

* a header that does not parse is ignored (the whole object is served, 200);
* ranges that parse but none of which overlap the object give 416;
* too many ranges are ignored, so a request cannot make the server do
  unbounded work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

MAX_RANGES = 100


class UnsatisfiableRange(Exception):
    """Every requested range lies beyond the end of the object (416)."""


def parse(header: str | None) -> list[tuple[int | None, int | None]] | None:
    """'bytes=0-9,-5,10-' -> [(0, 9), (None, 5), (10, None)]; None if invalid."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    result: list[tuple[int | None, int | None]] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        first, dash, last = item.partition("-")
        if not dash:
            return None
        first, last = first.strip(), last.strip()
        try:
            start = int(first) if first else None
            end = int(last) if last else None
        except ValueError:
            return None
        if (start is None and end is None) or (start is not None and start < 0) or \
                (end is not None and end < 0) or \
                (start is not None and end is not None and end < start):
            return None
        result.append((start, end))
    if not result or len(result) > MAX_RANGES:
        return None
    return result


def resolve(header: str | None, length: int) -> list[tuple[int, int]] | None:
    """The byte ranges [start, stop) to serve of an object of length bytes.

    None means "serve everything" (no header, or an invalid one).

    :raises UnsatisfiableRange: all ranges start at or beyond length.
    """
    specs = parse(header)
    if specs is None:
        return None
    out = []
    for start, end in specs:
        if start is None:  # suffix: the last `end` bytes
            assert end is not None
            if end == 0:
                continue
            out.append((max(0, length - end), length))
        elif start < length:
            stop = length if end is None else min(end + 1, length)
            out.append((start, stop))
    if not out:
        raise UnsatisfiableRange()
    return out


def content_range(start: int, stop: int, length: int) -> str:
    return f"bytes {start}-{stop - 1}/{length}"


def new_boundary() -> str:
    return os.urandom(16).hex()


def multipart_preamble(boundary: str, content_type: str, start: int, stop: int,
                       length: int, first: bool) -> bytes:
    """The part header written before each range of a multipart/byteranges body."""
    lead = b"" if first else b"\r\n"
    return lead + (f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                   f"Content-Range: {content_range(start, stop, length)}\r\n\r\n").encode()


def multipart_epilogue(boundary: str) -> bytes:
    return f"\r\n--{boundary}--".encode()


def multipart_length(boundary: str, content_type: str,
                     spans: list[tuple[int, int]], length: int) -> int:
    """Total body length of a multipart/byteranges response, for Content-Length."""
    total = len(multipart_epilogue(boundary))
    for i, (start, stop) in enumerate(spans):
        total += len(multipart_preamble(boundary, content_type, start, stop, length, i == 0))
        total += stop - start
    return total


def multipart_body(boundary: str, content_type: str, spans: list[tuple[int, int]],
                   length: int, read_span) -> Iterator[bytes]:
    """Yield a multipart/byteranges body; read_span(start, stop) yields the bytes."""
    for i, (start, stop) in enumerate(spans):
        yield multipart_preamble(boundary, content_type, start, stop, length, i == 0)
        yield from read_span(start, stop)
    yield multipart_epilogue(boundary)


def iter_slice(chunks: Iterable[bytes], start: int, stop: int) -> Iterator[bytes]:
    """Bytes [start, stop) of a stream of chunks (used to cut ranges from segments)."""
    pos = 0
    for chunk in chunks:
        end = pos + len(chunk)
        if end > start and pos < stop:
            yield chunk[max(0, start - pos):min(len(chunk), stop - pos)]
        pos = end
        if pos >= stop:
            break
