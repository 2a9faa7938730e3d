"""TCP ports for the guests' serial consoles, from ``[compute] serial_port_range``.

A guest keeps its port for life: the port is written into its domain definition and
read back from there (on a respawn, resize, revert or rebuild), so the console log and
the console proxy's address stay the same across agent restarts. A new guest gets a
port that no domain on this libvirtd uses (other agents' included, since several may
share it) and that nothing else on the host is bound to.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import random
import socket
import threading
from collections.abc import Callable, Iterable

from agents.compute.exception import HypervisorError

LOG = logging.getLogger(__name__)


def port_is_free(host: str, port: int) -> bool:
    """True when port can be bound on host (nobody listens on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As QEMU does, so a port in TIME_WAIT after a guest stopped counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


class SerialPorts:
    """Chooses free ports; hold :meth:`reserving` from the choice until the domain that
    uses the port is defined, so two spawns in this process never pick the same one."""

    def __init__(self, first: int, last: int, listen: str = "127.0.0.1",
                 is_free: Callable[[str, int], bool] = port_is_free,
                 rng: random.Random | None = None):
        self.first, self.last, self.listen = first, last, listen
        self._is_free = is_free
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def reserving(self):
        """Serialise choose-then-define within this process."""
        with self._lock:
            yield

    def choose(self, used: Iterable[int]) -> int:
        """A port in the range that no domain uses (used) and that is free on the host.

        Starts at a random point so that agents sharing a libvirtd rarely race for the
        same port.

        :raises HypervisorError: every port in the range is taken.
        """
        taken = set(used)
        size = self.last - self.first + 1
        start = self._rng.randrange(size)
        for offset in range(size):
            port = self.first + (start + offset) % size
            if port not in taken and self._is_free(self.listen, port):
                return port
        raise HypervisorError(f"no free serial console port in {self.first}:{self.last}; "
                              "widen [compute] serial_port_range or free some ports")
