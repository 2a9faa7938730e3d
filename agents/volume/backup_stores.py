"""Where backup objects live: a directory, or a container of the object storage service.

A store maps object names (``backup-<id>/chunk-00000``) to bytes. Writes are atomic
(a reader sees the whole object or none) and every failure is a BackupError.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from urllib.parse import quote

import requests

from agents.volume.exception import BackupError

LOG = logging.getLogger(__name__)
TokenProvider = Callable[[bool], tuple[str, str]]
"""(force_new) -> (token, object storage account URL) of the service user."""


class Store(abc.ABC):
    """Named objects of bytes."""

    @abc.abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Store data as name (replacing it). :raises BackupError: not stored."""

    @abc.abstractmethod
    def get(self, name: str) -> bytes | None:
        """The object's data, None when there is no such object.

        :raises BackupError: the store could not be read.
        """

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Remove name; a missing object is not an error. :raises BackupError: refused."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Names starting with prefix. :raises BackupError: the store could not be read."""


class FileStore(Store):
    """Objects as files under a directory (local disk or a shared mount)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def _path(self, name: str) -> str:
        path = os.path.normpath(os.path.join(self.root, name))
        if not path.startswith(self.root + os.sep):
            raise BackupError(f"object name {name!r} leaves the backup directory")
        return path

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        tmp = f"{path}.tmp"
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            with open(tmp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise BackupError(f"could not write {path}: {exc}") from exc

    def get(self, name: str) -> bytes | None:
        try:
            with open(self._path(name), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackupError(f"could not read {name}: {exc}") from exc

    def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackupError(f"could not remove {path}: {exc}") from exc
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))  # only succeeds once the backup is empty

    def list(self, prefix: str) -> list[str]:
        directory = self._path(prefix.rstrip("/")) if "/" in prefix else self.root
        try:
            entries = os.listdir(directory)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise BackupError(f"could not list {directory}: {exc}") from exc
        base = os.path.relpath(directory, self.root)
        found = [entry if base == "." else f"{base}/{entry}" for entry in entries
                 if not entry.endswith(".tmp")]
        return sorted(name for name in found if name.startswith(prefix))


class SwiftStore(Store):
    """Objects in one container of a Swift v1 account, reached with the service token."""

    def __init__(self, token_provider: TokenProvider, container: str = "volumebackups",
                 timeout: float = 60, session: requests.Session | None = None):
        self._token_provider = token_provider
        self.container = container
        self.timeout = timeout
        self._session = session or requests.Session()
        self._container_ready = False
        self._lock = threading.Lock()

    def put(self, name: str, data: bytes) -> None:
        self._ensure_container()
        # ETag: the proxy checks the body's MD5 and refuses a damaged upload.
        headers = {"ETag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                   "Content-Type": "application/octet-stream"}
        self._request("PUT", self._object(name), data=data, headers=headers, ok=(201,))

    def get(self, name: str) -> bytes | None:
        response = self._request("GET", self._object(name), ok=(200, 404))
        return None if response.status_code == 404 else response.content

    def delete(self, name: str) -> None:
        self._request("DELETE", self._object(name), ok=(204, 404))

    def list(self, prefix: str) -> list[str]:
        found: list[str] = []
        marker = ""
        while True:
            response = self._request("GET", quote(self.container), ok=(200, 204, 404),
                                     params={"prefix": prefix, "marker": marker,
                                             "format": "json"})
            if response.status_code != 200:
                return found
            page = [entry["name"] for entry in response.json()]
            if not page:
                return found
            found.extend(page)
            marker = page[-1]

    def _ensure_container(self) -> None:
        if self._container_ready:
            return
        with self._lock:
            if not self._container_ready:
                self._request("PUT", quote(self.container), ok=(201, 202))
                self._container_ready = True

    def _object(self, name: str) -> str:
        return f"{quote(self.container)}/{quote(name)}"

    def _request(self, method: str, path: str, ok: tuple[int, ...], **kwargs):
        extra_headers = kwargs.pop("headers", {})
        for attempt in (1, 2):
            try:
                token, account_url = self._token_provider(attempt == 2)
            except Exception as exc:  # the identity client's own errors
                raise BackupError(f"no token for the object storage service: {exc}") from exc
            try:
                response = self._session.request(
                    method, f"{account_url.rstrip('/')}/{path}", timeout=self.timeout,
                    headers={"X-Auth-Token": token, **extra_headers}, **kwargs)
            except (requests.RequestException, OSError) as exc:
                raise BackupError(f"object storage {method} {path} failed: {exc}") from exc
            if response.status_code == 401 and attempt == 1:
                continue  # the token expired or was revoked: get a new one, once
            if response.status_code in ok:
                return response
            raise BackupError(f"object storage {method} {path} answered "
                              f"{response.status_code}: {response.text[:200]}")
        raise BackupError(f"object storage refused the service token for {method} {path}")
