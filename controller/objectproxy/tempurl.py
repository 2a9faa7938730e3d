"""TempURL: token-less access to one object (or prefix) for a limited time.

    ?temp_url_sig=<sig>&temp_url_expires=<unix time or ISO 8601>[&temp_url_prefix=<p>]
    [&filename=<name>][&inline]

sig = HMAC(key, "<METHOD>\\n<expires>\\n<path>") in hex (SHA-1, SHA-256, SHA-512 by
length) or "<digest>:<base64>"; path is /v1/<account>/<container>/<object>, or
"prefix:/v1/<account>/<container>/<prefix>" for prefix URLs. Keys are the account's
and container's Temp-URL-Key and Temp-URL-Key-2 metadata.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import time
import urllib.parse

from common.objectstore.wsgi import HTTPError
from controller.objectproxy import info as info_mod
from controller.objectproxy.request import ProxyRequest

HEX_DIGESTS = {40: "sha1", 64: "sha256", 128: "sha512"}
KEY_NAMES = ("temp-url-key", "temp-url-key-2")


def is_tempurl(params: dict[str, str]) -> bool:
    return "temp_url_sig" in params or "temp_url_expires" in params


def parse_expires(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        when = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return int(when.replace(tzinfo=datetime.UTC).timestamp())


def parse_signature(sig: str) -> tuple[str, bytes] | None:
    """(digest name, raw signature) of a temp_url_sig value."""
    if ":" in sig:
        name, _, b64 = sig.partition(":")
        try:
            raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        except (binascii.Error, ValueError):
            return None
        return name, raw
    name = HEX_DIGESTS.get(len(sig))
    if name is None:
        return None
    try:
        return name, bytes.fromhex(sig)
    except ValueError:
        return None


def sign(key: str, method: str, expires: int | str, path: str, digest: str = "sha256") -> str:
    """A hex signature (what clients such as `swift tempurl` compute)."""
    body = f"{method}\n{expires}\n{path}".encode()
    return hmac.new(key.encode(), body, getattr(hashlib, digest)).hexdigest()


class TempUrls:
    """Validates TempURL requests against the account's and container's keys."""

    def __init__(self, app, methods: list[str], digests: list[str]):
        self.app = app
        self.methods = {m.upper() for m in methods}
        self.digests = set(digests)

    def validate(self, preq: ProxyRequest) -> None:
        """Mark preq as authorized by its signature.

        :raises HTTPError: 401 (Swift's "Temp URL invalid") for anything wrong.
        """
        params = preq.params
        invalid = HTTPError(401, "401 Unauthorized: Temp URL invalid\n",
                            {"Www-Authenticate": 'Swift realm="' + preq.account + '"'})
        expires = parse_expires(params.get("temp_url_expires", ""))
        parsed = parse_signature(params.get("temp_url_sig", ""))
        if expires is None or parsed is None or preq.container is None or preq.obj is None:
            raise invalid
        if expires < time.time():
            raise HTTPError(401, "401 Unauthorized: Temp URL expired\n")
        digest, signature = parsed
        if digest not in self.digests:
            raise invalid
        method = preq.method
        candidates = ["GET", "HEAD", "PUT", "POST"] if method == "HEAD" else [method]
        candidates = [m for m in candidates if m in self.methods]
        prefix = params.get("temp_url_prefix")
        if prefix is not None:
            if not preq.obj.startswith(prefix):
                raise invalid
            path = f"prefix:/v1/{preq.account}/{preq.container}/{prefix}"
        else:
            path = f"/v1/{preq.account}/{preq.container}/{preq.obj}"
        for key in self._keys(preq):
            for m in candidates:
                body = f"{m}\n{params['temp_url_expires']}\n{path}".encode()
                mac = hmac.new(key.encode(), body, getattr(hashlib, digest)).digest()
                if hmac.compare_digest(mac, signature):
                    preq.tempurl = True
                    return
        raise invalid

    def _keys(self, preq: ProxyRequest) -> list[str]:
        keys = []
        account_meta = info_mod.meta(self.app.infos.account(preq.account), "x-account-meta-")
        container_meta = info_mod.meta(
            self.app.infos.container(preq.account, preq.container or ""),
            "x-container-meta-")
        for meta in (account_meta, container_meta):
            keys += [meta[name] for name in KEY_NAMES if meta.get(name)]
        return keys

    @staticmethod
    def decorate(preq: ProxyRequest, out: dict[str, str]) -> None:
        """TempURL GETs download as attachments named after the object, as in Swift."""
        if not preq.tempurl or preq.method != "GET":
            return
        name = preq.params.get("filename") or (preq.obj or "").rsplit("/", 1)[-1]
        kind = "inline" if "inline" in preq.params else "attachment"
        quoted = urllib.parse.quote(name)
        out["Content-Disposition"] = f"{kind}; filename=\"{quoted}\"; " \
                                     f"filename*=UTF-8''{quoted}"
