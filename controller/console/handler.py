"""One console websocket: check the origin, consume the token, proxy to the guest's port.

The token is consumed (single use) before the websocket handshake completes, so an
invalid, expired or reused token never gets a websocket: the client receives an HTTP
403 and the log says why. Plain GETs on the noVNC listener serve noVNC's static files.
"""

from __future__ import annotations

import http
import logging
import re
import socket
import urllib.parse
from http import cookies

from websockify import websocketproxy

from controller.compute import consoles

LOG = logging.getLogger(__name__)
# Tokens in logged paths (also URL-encoded inside noVNC's path=) are masked.
_TOKEN_IN_PATH = re.compile(r"(token(?:=|%3D))[^&'\s%]+", re.IGNORECASE)


def token_from(path: str, cookie_header: str | None) -> str | None:
    """The console token in a websocket request: ``?token=``, noVNC's ``?path=?token=``,
    or a ``token`` cookie, in that order."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if query.get("token"):
        return query["token"][0].strip() or None
    for inner in query.get("path", []):
        nested = urllib.parse.parse_qs(urllib.parse.urlsplit(inner).query)
        if nested.get("token"):
            return nested["token"][0].strip() or None
    if cookie_header:
        jar = cookies.SimpleCookie()
        try:
            jar.load(cookie_header)
        except cookies.CookieError:
            return None
        if "token" in jar:
            return jar["token"].value or None
    return None


def _hostname(value: str) -> str:
    """The host name of an Origin URL or a Host header, lower-cased, without port."""
    netloc = urllib.parse.urlsplit(value).netloc if "//" in value else value
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):  # [IPv6]:port
        return host[1:host.find("]")].lower()
    return host.split(":", 1)[0].lower()


class ConsoleProxyHandler(websocketproxy.ProxyRequestHandler):
    """Request handler of both listeners; the server says which console type it serves
    (``server.console_type``) and holds the Runtime (``server.rt``)."""

    def translate_path(self, path: str) -> str:
        # Static files come from [console] novnc_web, never from the working directory.
        self.directory = self.server.web
        return super().translate_path(path)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base's signature
        LOG.info("%s %s", self.client_address[0], _TOKEN_IN_PATH.sub(r"\1***", format % args))

    def handle_upgrade(self) -> None:
        """Refuse the websocket unless the origin is allowed and the token is good."""
        refusal = self._refusal()
        if refusal:
            LOG.warning("Console websocket from %s refused: %s", self.client_address[0],
                        refusal)
            self.send_error(http.HTTPStatus.FORBIDDEN, refusal)
            return
        super().handle_upgrade()

    def _refusal(self) -> str | None:
        """Why this websocket must not open, or None; consumes the token when valid."""
        origin = self.headers.get("Origin")
        if origin and origin != "null":
            allowed = {_hostname(self.headers.get("Host") or "")}
            allowed.update(name.lower() for name in self.server.allowed_origins)
            if _hostname(origin) not in allowed:
                return f"origin {origin} is not allowed"
        token = token_from(self.path, self.headers.get("Cookie"))
        if not token:
            return "no console token in the request"
        target = consoles.consume(self.server.rt, token)
        if target is None:
            return "the console token is invalid, expired or already used"
        if target.console_type != self.server.console_type:
            return (f"a {target.console_type} console token was presented to the "
                    f"{self.server.console_type} proxy")
        self.target = target
        return None

    def new_websocket_client(self) -> None:
        """Connect to the guest's console port and pass bytes both ways until one side
        closes."""
        target = self.target
        try:
            upstream = socket.create_connection((target.host, target.port),
                                                timeout=self.server.connect_timeout)
        except OSError as error:
            LOG.warning("Console of instance %s: cannot reach %s:%s: %s",
                        target.instance_uuid, target.host, target.port, error)
            raise self.CClose(1011, "Failed to connect to the console") from error
        upstream.settimeout(None)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        LOG.info("Console %s of instance %s: %s <-> %s:%s", target.console_type,
                 target.instance_uuid, self.client_address[0], target.host, target.port)
        try:
            self.do_proxy(upstream)
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the guest side
            upstream.close()
            LOG.info("Console of instance %s closed", target.instance_uuid)
