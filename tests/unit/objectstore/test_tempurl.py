"""TempURL signature parsing and validation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from types import SimpleNamespace

import pytest

from common.objectstore.wsgi import HTTPError
from controller.objectproxy import tempurl
from controller.objectproxy.request import ProxyRequest


class FakeInfos:
    def account(self, account):
        return {"x-account-meta-temp-url-key": "k1"}

    def container(self, account, container):
        return {"x-container-meta-temp-url-key-2": "k2"}


def make(method, path, params):
    req = SimpleNamespace(method=method, params=params, header=lambda n, d=None: d)
    _, _, account, container, obj = path.split("/", 4)
    return ProxyRequest(req, "tx", account, container, obj)


def sign(key, method, expires, path, digest=hashlib.sha256):
    return hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), digest).hexdigest()


@pytest.fixture
def urls():
    return tempurl.TempUrls(SimpleNamespace(infos=FakeInfos()), ["GET", "HEAD", "PUT"],
                            ["sha1", "sha256", "sha512"])


PATH = "/v1/AUTH_a/c/o"


@pytest.mark.parametrize("key", ["k1", "k2"])
@pytest.mark.parametrize("digest", [hashlib.sha1, hashlib.sha256, hashlib.sha512])
def test_valid_signatures(urls, key, digest):
    expires = int(time.time()) + 60
    preq = make("GET", PATH, {"temp_url_sig": sign(key, "GET", expires, PATH, digest),
                              "temp_url_expires": str(expires)})
    urls.validate(preq)
    assert preq.tempurl


def test_base64_signature_and_head_with_get_signature(urls):
    expires = int(time.time()) + 60
    raw = hmac.new(b"k1", f"GET\n{expires}\n{PATH}".encode(), hashlib.sha512).digest()
    sig = "sha512:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    preq = make("HEAD", PATH, {"temp_url_sig": sig, "temp_url_expires": str(expires)})
    urls.validate(preq)
    assert preq.tempurl


@pytest.mark.parametrize("mutate", [
    lambda p: p.update(temp_url_sig="0" * 64),
    lambda p: p.update(temp_url_expires=str(int(time.time()) - 5)),
    lambda p: p.update(temp_url_expires="tomorrow"),
    lambda p: p.update(temp_url_sig="xyz"),
])
def test_invalid_or_expired_is_401(urls, mutate):
    expires = int(time.time()) + 60
    params = {"temp_url_sig": sign("k1", "GET", expires, PATH), "temp_url_expires": str(expires)}
    mutate(params)
    with pytest.raises(HTTPError) as info:
        urls.validate(make("GET", PATH, params))
    assert info.value.status == 401


def test_signature_is_bound_to_method_and_path(urls):
    expires = int(time.time()) + 60
    params = {"temp_url_sig": sign("k1", "GET", expires, PATH), "temp_url_expires": str(expires)}
    for method, path in (("PUT", PATH), ("GET", "/v1/AUTH_a/c/other")):
        with pytest.raises(HTTPError):
            urls.validate(make(method, path, dict(params)))


def test_prefix_signatures(urls):
    expires = int(time.time()) + 60
    sig = sign("k1", "GET", expires, "prefix:/v1/AUTH_a/c/pre")
    params = {"temp_url_sig": sig, "temp_url_expires": str(expires), "temp_url_prefix": "pre"}
    preq = make("GET", "/v1/AUTH_a/c/prefixed/obj", dict(params))
    urls.validate(preq)
    with pytest.raises(HTTPError):
        urls.validate(make("GET", "/v1/AUTH_a/c/other", dict(params)))


def test_iso8601_expiry():
    assert tempurl.parse_expires("2030-01-01T00:00:00Z") == 1893456000
