"""Listening sockets inside network namespaces, from a process that stays outside.

A socket belongs to the namespace it was created in, for its whole life. So a helper
thread joins the namespace (``setns``, which moves only the calling thread), creates and
binds the socket, and ends; the socket keeps serving that namespace while the rest of
the process (its RPC and HTTP client connections) stays in the host namespace. This is
how one metadata agent serves every router and DHCP namespace without a process per
namespace.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
IP_FREEBIND = 15
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")


def namespace_path(ns: str) -> str:
    return os.path.join(NETNS_DIR, ns)


def namespace_inode(ns: str) -> int | None:
    """Identity of the namespace now named ns (None when there is none)."""
    try:
        return os.stat(namespace_path(ns)).st_ino
    except OSError:
        return None


def listen_in(ns: str, host: str, port: int, *, freebind: bool = False,
              backlog: int = 128) -> socket.socket:
    """A TCP socket listening on host:port inside namespace ns.

    freebind: bind even when host is not (yet) an address of the namespace.

    :raises OSError: the namespace is gone, or the address is in use or not available.
    """
    result: dict[str, object] = {}

    def work() -> None:
        target = own = -1
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            target = os.open(namespace_path(ns), os.O_RDONLY)
            _setns(target)
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if freebind:
                        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
                    sock.bind((host, port))
                    sock.listen(backlog)
                    sock.setblocking(False)
                except OSError:
                    sock.close()
                    raise
                result["socket"] = sock
            finally:
                _setns(own)  # the thread ends anyway; this keeps it honest
        except OSError as exc:
            result["error"] = exc
        finally:
            for fd in (target, own):
                if fd >= 0:
                    os.close(fd)

    worker = threading.Thread(target=work, name=f"netns-bind-{ns}", daemon=True)
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    if "socket" not in result:
        raise OSError(errno.EIO, f"no socket created in {ns}")
    return result["socket"]  # type: ignore[return-value]
