"""SLO manifest validation and ETags, metadata constraints, ACL parsing."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from common.objectstore.wsgi import HTTPError, Request
from controller.objectproxy import acl, constraints, slo
from controller.objectproxy.auth import Identity


def test_parse_manifest_accepts_optional_etag_and_size():
    segs = slo.parse_manifest(json.dumps([{"path": "/c/o"}, {"path": "/c/p", "etag": "x",
                                                              "size_bytes": 3}]).encode(), 10)
    assert len(segs) == 2


@pytest.mark.parametrize("body,status", [
    (b"{", 400), (b"[]", 400), (b'{"path": "/c/o"}', 400),
    (json.dumps([{"path": "c"}]).encode(), 400),
    (json.dumps([{"path": "/c/o", "bogus": 1}]).encode(), 400),
    (json.dumps([{"path": "/c/o", "size_bytes": -1}]).encode(), 400),
    (json.dumps([{"path": "/c/o"}] * 11).encode(), 413),
])
def test_parse_manifest_rejects(body, status):
    with pytest.raises(HTTPError) as info:
        slo.parse_manifest(body, 10)
    assert info.value.status == status


def test_slo_etag_is_md5_of_segment_etags():
    entries = [{"hash": "a" * 32, "bytes": 1}, {"hash": "b" * 32, "bytes": 2, "range": "0-0"}]
    expected = hashlib.md5(("a" * 32 + "b" * 32 + ":0-0;").encode()).hexdigest()
    assert slo.slo_etag(entries) == expected
    assert slo.entry_length(entries[1]) == 1


def request(headers):
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/"}
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return Request(environ)


@pytest.mark.parametrize("headers,message", [
    ({"X-Object-Meta-" + "n" * 129: "v"}, "Metadata name too long"),
    ({"X-Object-Meta-N": "v" * 257}, "Metadata value longer than 256"),
    ({f"X-Object-Meta-N{i}": "v" for i in range(91)}, "Too many metadata items"),
    ({f"X-Object-Meta-N{i}": "v" * 250 for i in range(20)}, "Total metadata too large"),
])
def test_metadata_limits(headers, message):
    with pytest.raises(HTTPError) as info:
        constraints.check_metadata(request(headers), "object")
    assert info.value.status == 400 and message in info.value.body


def test_name_limits():
    constraints.check_names("a" * 256, "c" * 256, "o" * 1024)
    for args in (("a" * 257, None, None), ("a", "c" * 257, None), ("a", "c", "é" * 513)):
        with pytest.raises(HTTPError):
            constraints.check_names(*args)


def test_acl_matching():
    ident = Identity("uid", "bob", "pid", "proj", frozenset({"member"}))
    referrers, groups = acl.parse("pid:*, .r:*, .rlistings, other:uid")
    assert referrers == ["*"] and acl.identity_allowed(ident, groups)
    assert acl.identity_allowed(ident, acl.parse("proj:bob")[1])
    assert acl.identity_allowed(ident, acl.parse("member")[1])
    assert not acl.identity_allowed(ident, acl.parse("x:*, *:carol")[1])
    assert acl.referrer_allowed("http://www.example.com/x", [".example.com"])
    assert not acl.referrer_allowed("http://evil.com/", [".example.com"])
    assert not acl.referrer_allowed("http://a.example.com", ["*", "-a.example.com"])
    with pytest.raises(HTTPError):
        acl.parse(".bogus")
    with pytest.raises(HTTPError):
        acl.validate_write_acl(".r:*")


def test_authorizer_roles():
    from controller.objectproxy.authz import Authorizer
    from controller.objectproxy.request import ProxyRequest

    authz = Authorizer("AUTH_", ["admin", "member"], ["reader"], "admin")
    req = SimpleNamespace(method="GET", header=lambda n, d=None: d, params={})

    def classify(project, roles, account="AUTH_p1"):
        preq = ProxyRequest(req, "tx", account,
                            identity=Identity("u", "u", project, project, frozenset(roles)))
        authz.classify(preq)
        return preq.is_owner, preq.is_reader

    assert classify("p1", ["member"]) == (True, True)
    assert classify("p1", ["reader"]) == (False, True)
    assert classify("p2", ["member"]) == (False, False)
    assert classify("p2", ["admin"]) == (True, True)
