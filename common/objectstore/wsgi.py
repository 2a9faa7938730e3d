"""The little WSGI layer under the proxy and the storage nodes.

Deliberately thin: a Request that reads what handlers ask for from the WSGI
environ, a Response that is (status, headers, body iterable), and HTTPError, the
one fault path. Error bodies follow Swift's wording so clients and operators see
the messages they know.
"""

from __future__ import annotations

import http
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 65536

# Swift's default error bodies (what a Swift client shows a user)
_DEFAULT_BODIES = {
    400: "The server could not comply with the request since it is either malformed "
         "or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document "
         "you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    408: "The server has waited too long for the request to be sent by the client.",
    409: "There was a conflict when trying to complete your request.",
    411: "Length Required.",
    412: "A precondition for this request was not met.",
    413: "The body of your request was too large for this server.",
    416: "The Range requested is not available.",
    422: "Unable to process the contained instructions",
    499: "The client disconnected during request.",
    500: "The server has either erred or is incapable of performing the requested "
         "operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
    507: "There was not enough space to save the resource.",
}
_EXTRA_REASONS = {499: "Client Disconnect"}


def status_line(code: int) -> str:
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} {_EXTRA_REASONS.get(code, 'Unknown')}"


class Response:
    """What a handler returns: status, header list and body (bytes or an iterable)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None,
                 body: bytes | Iterable[bytes] = b""):
        self.status = status
        self.headers = headers if headers is not None else {}
        self.body = body


class HTTPError(Exception):
    """Any failure with an HTTP status; the app renders it in Swift's format."""

    def __init__(self, status: int, body: str | None = None,
                 headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        super().__init__(f"{status}: {body or _DEFAULT_BODIES.get(status, '')}")

    def response(self, method: str = "GET") -> Response:
        headers = dict(self.headers)
        if self.body is not None:
            payload = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        else:
            phrase = status_line(self.status).split(" ", 1)[1]
            payload = (f"<html><h1>{phrase}</h1><p>"
                       f"{_DEFAULT_BODIES.get(self.status, phrase)}</p></html>").encode()
            headers.setdefault("Content-Type", "text/html; charset=UTF-8")
        headers["Content-Length"] = str(len(payload))
        return Response(self.status, headers, b"" if method == "HEAD" else payload)


def wsgi_to_str(value: str) -> str:
    """WSGI strings are latin-1 views of the bytes; names on the wire are UTF-8.

    :raises HTTPError: 412 if the bytes are not valid UTF-8 (Swift's answer).
    """
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError as exc:
        raise HTTPError(412, "Invalid UTF8 or contains NULL") from exc


def str_to_wsgi(value: str) -> str:
    """The inverse of wsgi_to_str, for header values that carry UTF-8 text."""
    return value.encode("utf-8").decode("latin-1")


class Request:
    """Read access to one WSGI request."""

    __slots__ = ("environ", "method", "_params", "_path")

    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"]
        self._params: dict[str, str] | None = None
        self._path: str | None = None

    @property
    def path(self) -> str:
        """The decoded path (UTF-8). :raises HTTPError: 412 on invalid UTF-8."""
        if self._path is None:
            self._path = wsgi_to_str(self.environ.get("PATH_INFO", "") or "/")
        return self._path

    @property
    def raw_path(self) -> str:
        """The path as the client sent it (still percent-encoded)."""
        raw = self.environ.get("RAW_URI") or self.environ.get("REQUEST_URI")
        if raw:
            return raw.split("?", 1)[0]
        return urllib.parse.quote(self.environ.get("PATH_INFO", "").encode("latin-1"))

    @property
    def query_string(self) -> str:
        return self.environ.get("QUERY_STRING", "")

    @property
    def params(self) -> dict[str, str]:
        """Query parameters (first value of each; blank values kept, e.g. ?bulk-delete)."""
        if self._params is None:
            qs = self.environ.get("QUERY_STRING", "")
            self._params = {}
            if qs:
                for key, value in urllib.parse.parse_qsl(qs, keep_blank_values=True):
                    self._params.setdefault(key, value)
        return self._params

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header by its HTTP name (e.g. 'X-Timestamp')."""
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
            return self.environ.get(key) or default
        return self.environ.get("HTTP_" + key, default)

    def headers_with_prefix(self, prefix: str) -> dict[str, str]:
        """Headers starting with prefix (e.g. 'X-Object-Meta-'), in Title-Case."""
        wanted = "HTTP_" + prefix.upper().replace("-", "_")
        out = {}
        for key, value in self.environ.items():
            if key.startswith(wanted):
                out[header_name(key)] = value
        return out

    def all_headers(self) -> dict[str, str]:
        out = {header_name(k): v for k, v in self.environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if self.environ.get(key):
                out[header_name(key)] = self.environ[key]
        return out

    @property
    def content_length(self) -> int | None:
        """Declared body length; None when chunked or absent.

        :raises HTTPError: 400 when not a non-negative integer.
        """
        value = self.environ.get("CONTENT_LENGTH")
        if value in (None, ""):
            return None
        try:
            length = int(value)
        except ValueError as exc:
            raise HTTPError(400, "Invalid Content-Length") from exc
        if length < 0:
            raise HTTPError(400, "Invalid Content-Length")
        return length

    @property
    def chunked(self) -> bool:
        return "chunked" in self.environ.get("HTTP_TRANSFER_ENCODING", "").lower()

    def body_chunks(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The request body in chunks (the server undoes chunked encoding)."""
        stream = self.environ["wsgi.input"]
        remaining = self.content_length
        if remaining is None and not self.chunked:
            return
        if remaining is None and "uwsgi.version" in self.environ:
            yield from _uwsgi_chunks(self.environ.get("stratus.client_timeout", 60))
            return
        while remaining is None or remaining > 0:
            size = chunk_size if remaining is None else min(chunk_size, remaining)
            try:
                data = stream.read(size)
            except OSError as exc:
                raise HTTPError(499) from exc
            if not data:
                if remaining:
                    raise HTTPError(499)
                return
            if remaining is not None:
                remaining -= len(data)
            yield data

    def read_body(self, limit: int) -> bytes:
        """The whole (small) body. :raises HTTPError: 413 over limit bytes."""
        out = bytearray()
        for chunk in self.body_chunks():
            out += chunk
            if len(out) > limit:
                raise HTTPError(413)
        return bytes(out)


def _uwsgi_chunks(timeout: float) -> Iterator[bytes]:
    """uWSGI hands chunked request bodies over through its own API, not wsgi.input."""
    import uwsgi  # only importable inside a uWSGI worker

    while True:
        try:
            data = uwsgi.chunked_read(int(timeout))
        except OSError as exc:
            raise HTTPError(499) from exc
        if not data:
            return
        yield data


def header_name(environ_key: str) -> str:
    """HTTP_X_OBJECT_META_FOO -> X-Object-Meta-Foo."""
    if environ_key.startswith("HTTP_"):
        environ_key = environ_key[5:]
    return "-".join(word.capitalize() for word in environ_key.split("_"))


def finish(start_response, response: Response, method: str) -> Iterable[bytes]:
    """Hand a Response to the WSGI server."""
    body = response.body
    headers = response.headers
    if isinstance(body, bytes | bytearray):
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        start_response(status_line(response.status), list(headers.items()))
        if method == "HEAD":
            return [b""]
        return [body]
    start_response(status_line(response.status), list(headers.items()))
    if method == "HEAD":
        close = getattr(body, "close", None)
        if close:
            close()
        return [b""]
    return body
