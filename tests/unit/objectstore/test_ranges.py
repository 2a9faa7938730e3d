"""HTTP Range handling with Swift's rules."""

from __future__ import annotations

import pytest

from common.objectstore import ranges


@pytest.mark.parametrize("header,length,expected", [
    ("bytes=0-9", 100, [(0, 10)]),
    ("bytes=90-", 100, [(90, 100)]),
    ("bytes=-10", 100, [(90, 100)]),
    ("bytes=-200", 100, [(0, 100)]),
    ("bytes=95-200", 100, [(95, 100)]),
    ("bytes=0-0,5-6", 100, [(0, 1), (5, 7)]),
    ("bytes=0-1,200-300", 100, [(0, 2)]),
])
def test_satisfiable(header, length, expected):
    assert ranges.resolve(header, length) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=200-300", "bytes=-0"])
def test_unsatisfiable(header):
    with pytest.raises(ranges.UnsatisfiableRange):
        ranges.resolve(header, 100)


@pytest.mark.parametrize("header", [None, "", "bytes", "items=0-1", "bytes=a-b", "bytes=5-1",
                                    "bytes=-", "bytes=0-1," * 101])
def test_invalid_headers_are_ignored(header):
    assert ranges.resolve(header, 100) is None


def test_multipart_length_matches_body():
    spans = [(0, 3), (10, 12)]
    body = b"".join(ranges.multipart_body("B", "text/plain", spans, 20,
                                          lambda a, b: [bytes(b - a)]))
    assert len(body) == ranges.multipart_length("B", "text/plain", spans, 20)
    assert b"Content-Range: bytes 10-11/20" in body


def test_iter_slice():
    chunks = [b"abc", b"defg", b"hi"]
    assert b"".join(ranges.iter_slice(chunks, 2, 8)) == b"cdefgh"
