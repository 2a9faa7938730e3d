"""The libvirt connection, and the one place libvirt errors become the agent's own.

Everything that touches ``libvirt`` objects goes through :func:`translate`, so no
``libvirtError`` ever leaves the driver (STYLE item 5). The libvirt module itself is
imported lazily: unit tests and hosts without libvirt-python can still import the
driver package.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from agents.compute import domain_xml, paths
from agents.compute.exception import (
    ComputeError,
    HypervisorError,
    HypervisorUnavailable,
    InstanceNotFound,
    InvalidPowerState,
)
from agents.compute.power_state import PowerState

LOG = logging.getLogger(__name__)

try:
    import libvirt
except ImportError:  # pragma: no cover - exercised only where libvirt-python is absent
    libvirt = None


def _require_libvirt() -> Any:
    if libvirt is None:
        raise HypervisorUnavailable("libvirt-python is not installed; "
                                    "pip install libvirt-python (needs libvirt-dev)")
    return libvirt


@contextlib.contextmanager
def translate(instance_uuid: str | None, action: str,
              on_unavailable: Callable[[], None] | None = None) -> Iterator[None]:
    """Turn a libvirtError raised inside the block into a ComputeError.

    :raises InstanceNotFound: the domain does not exist (any more).
    :raises HypervisorUnavailable: libvirtd is unreachable (on_unavailable is called
        first, so the caller can drop its dead connection).
    :raises InvalidPowerState: libvirt refused because of the domain's state (a race).
    :raises HypervisorError: anything else.
    """
    try:
        yield
    except ComputeError:
        raise
    except Exception as exc:
        if libvirt is None or not isinstance(exc, libvirt.libvirtError):
            raise
        code, domain = exc.get_error_code(), exc.get_error_domain()
        what = f"{action} of instance {instance_uuid}" if instance_uuid else action
        message = exc.get_error_message() or str(exc)
        if code == libvirt.VIR_ERR_NO_DOMAIN and instance_uuid:
            raise InstanceNotFound(instance_uuid) from exc
        if (code in (libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_RPC)
                or domain in (libvirt.VIR_FROM_REMOTE, libvirt.VIR_FROM_RPC)):
            if on_unavailable:
                on_unavailable()
            raise HypervisorUnavailable(f"{what} failed, libvirtd is unreachable ({message}); "
                                        "start libvirtd and retry") from exc
        if code == libvirt.VIR_ERR_OPERATION_INVALID:
            raise InvalidPowerState(instance_uuid or "-", action,
                                    "in a state that does not allow it", message) from exc
        raise HypervisorError(f"{what} failed: {message}") from exc


def _ignore_error(context: object, error: object) -> None:
    """libvirt error callback that keeps errors off stderr."""


class Host:
    """One (re-opened on demand) connection to the local libvirtd."""

    def __init__(self, uri: str, opener: Callable[[str], Any] | None = None):
        self.uri = uri
        self._opener = opener
        self._conn: Any = None
        self._lock = threading.Lock()

    def connection(self) -> Any:
        """The open connection, reconnecting when libvirtd restarted.

        :raises HypervisorUnavailable: libvirtd cannot be reached.
        """
        with self._lock:
            if self._conn is not None:
                try:
                    if self._conn.isAlive():
                        return self._conn
                except Exception:  # a dead socket raises instead of answering
                    LOG.debug("libvirt connection to %s is dead", self.uri, exc_info=True)
                self._conn = None
            lv = _require_libvirt()
            # libvirt-python prints every error to stderr by default; ours are raised
            # (translated) and logged where they matter instead.
            lv.registerErrorHandler(_ignore_error, None)
            opener = self._opener or lv.open
            try:
                self._conn = opener(self.uri)
            except lv.libvirtError as exc:
                raise HypervisorUnavailable(
                    f"cannot connect to libvirt at {self.uri}: {exc.get_error_message()}; "
                    "is libvirtd running (virtlogd -d; libvirtd -d)?") from exc
            LOG.info("connected to libvirt %s", self.uri)
            return self._conn

    def forget(self) -> None:
        """Drop the connection so the next call reconnects."""
        with self._lock:
            self._conn = None

    def errors(self, instance_uuid: str | None, action: str):
        """translate() that also forgets a dead connection."""
        return translate(instance_uuid, action, on_unavailable=self.forget)

    def lookup(self, instance_uuid: str) -> Any:
        """The instance's domain.

        :raises InstanceNotFound: there is none.
        :raises HypervisorUnavailable, HypervisorError: see translate().
        """
        name = paths.domain_name(instance_uuid)
        with self.errors(instance_uuid, "lookup"):
            return self.connection().lookupByName(name)

    def our_domains(self, owner: str | None = None) -> list[tuple[str, Any]]:
        """(uuid, domain) of every domain named ``instance-<uuid>`` that owner owns.

        owner: the agent's ``conf.host`` as tagged in the domain metadata. Several
        agents (tests, other clouds) may share one libvirtd; a domain tagged with another
        host, or not tagged at all, belongs to none of ours. None: every domain named
        ``instance-<uuid>`` (tools only).
        """
        with self.errors(None, "list domains"):
            domains = self.connection().listAllDomains(0)
        found = []
        for dom in domains:
            uuid = paths.uuid_from_domain_name(dom.name())
            if uuid and (owner is None or self.owner_of(uuid, dom) == owner):
                found.append((uuid, dom))
        return found

    def owner_of(self, instance_uuid: str, dom: Any) -> str | None:
        """The host dom's metadata names as its owner (None: untagged, or gone)."""
        lv = _require_libvirt()
        try:
            with self.errors(instance_uuid, "read metadata"):
                try:
                    element = dom.metadata(lv.VIR_DOMAIN_METADATA_ELEMENT,
                                           domain_xml.METADATA_NS, 0)
                except lv.libvirtError as exc:
                    if exc.get_error_code() == lv.VIR_ERR_NO_DOMAIN_METADATA:
                        return None
                    raise
        except InstanceNotFound:  # undefined while we looked
            return None
        return domain_xml.owner_host(element)

    def xml(self, instance_uuid: str, dom: Any, inactive: bool = False) -> str:
        """dom's XML: live (running) or persistent (inactive=True) definition."""
        lv = _require_libvirt()
        with self.errors(instance_uuid, "read the domain XML"):
            return dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE if inactive else 0)

    def power_state(self, instance_uuid: str, dom: Any) -> tuple[PowerState, str]:
        """(power state, "libvirt-state:reason") of dom, e.g. (SHUTDOWN, "shutoff:shutdown")."""
        lv = _require_libvirt()
        with self.errors(instance_uuid, "read state"):
            state, reason = dom.state(0)
            if state == lv.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0):
                return PowerState.SUSPENDED, "shutoff:saved"
        name, mapped, reasons = _STATES.get(state, (str(state), PowerState.NOSTATE, ()))
        return mapped, f"{name}:{reasons[reason] if reason < len(reasons) else reason}"


# libvirt state -> (name, power state, its reason names by value). A domain being shut
# down (VIR_DOMAIN_SHUTDOWN) still runs: reporting it as off would let a power_on
# through while the old QEMU is still alive.
_STATES: dict[int, tuple[str, PowerState, tuple[str, ...]]] = {
    0: ("nostate", PowerState.NOSTATE, ()),
    1: ("running", PowerState.RUNNING, (
        "unknown", "booted", "migrated", "restored", "from_snapshot", "unpaused",
        "migration_canceled", "save_canceled", "wakeup", "crashed", "postcopy")),
    2: ("blocked", PowerState.RUNNING, ()),
    3: ("paused", PowerState.PAUSED, (
        "unknown", "user", "migration", "save", "dump", "ioerror", "watchdog",
        "from_snapshot", "shutting_down", "snapshot", "crashed", "starting_up", "postcopy",
        "postcopy_failed", "api_error")),
    4: ("shutdown", PowerState.RUNNING, ("unknown", "user")),
    5: ("shutoff", PowerState.SHUTDOWN, (
        "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
        "from_snapshot", "daemon")),
    6: ("crashed", PowerState.CRASHED, ("unknown", "panicked")),
    7: ("pmsuspended", PowerState.SUSPENDED, ()),
}
