"""Ports on libvirt domains: hot-plug, hot-unplug, and starting a new guest only once the
network agent has wired its ports.

A hot-plugged NIC uses the very ``<interface>`` element the domain definition has at
boot (:func:`agents.compute.domain_xml.interface`: OVS virtualport with the port id as
iface-id, offloads off), applied to the persistent definition and, while the guest runs,
to the live domain too, so a later power cycle keeps it. Both directions are
idempotent: attaching a MAC the domain already has, or detaching one it no longer has,
changes nothing, so the conductor may safely ask again.

Starting a guest: libvirt creates the taps when QEMU starts, and the OVS agent tags them
on its next poll. A guest that ran at once could send its DHCP requests into the dead
VLAN; so, like Nova waiting for ``network-vif-plugged``, the guest is started paused,
the ports' status is polled until every one is ACTIVE (bounded by
``[compute] vif_plugging_timeout``) and only then does the guest run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from agents.compute import domain_xml
from agents.compute.exception import HypervisorError
from agents.compute.libvirt_host import Host
from agents.compute.model import Instance, Vif

LOG = logging.getLogger(__name__)

# libvirt flag values (stable ABI), spelled out so this module imports without libvirt.
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
START_PAUSED = 1
POLL_INTERVAL = 0.25

# (port ids, timeout in seconds) -> whether every port was wired in time.
PortWaiter = Callable[[Sequence[str], float], bool]
# port ids -> {port id: status} as the network service records it.
StatusReader = Callable[[Sequence[str]], dict[str, str]]


def nic(vif: Vif, offloads: bool) -> domain_xml.Interface:
    """The domain interface of vif (the same at boot and at hot-plug)."""
    return domain_xml.Interface(mac=vif.mac, target_dev=vif.devname, kind=vif.type,
                                bridge=vif.bridge, port_id=vif.id, mtu=vif.mtu,
                                offloads=offloads)


class Plugger:
    """Hot-plug and hot-unplug of ports on this host's domains."""

    def __init__(self, host: Host, offloads: bool, detach_timeout: float,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.host = host
        self.offloads = offloads
        self.detach_timeout = detach_timeout
        self._sleep = sleep
        self._clock = clock

    def _macs(self, instance_uuid: str, dom: Any, inactive: bool) -> list[str]:
        return domain_xml.interface_macs(self.host.xml(instance_uuid, dom, inactive))

    def attach(self, instance_uuid: str, vif: Vif) -> None:
        """Plug vif into the domain (persistently, and live when it runs).

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: libvirt (or QEMU) refused the device.
        """
        dom = self.host.lookup(instance_uuid)
        with self.host.errors(instance_uuid, "attach interface"):
            live = bool(dom.isActive())
        flags = 0
        if vif.mac not in self._macs(instance_uuid, dom, inactive=True):
            flags |= AFFECT_CONFIG
        if live and vif.mac not in self._macs(instance_uuid, dom, inactive=False):
            flags |= AFFECT_LIVE
        if not flags:
            LOG.info("instance %s already has port %s", instance_uuid, vif.id)
            return
        xml = domain_xml.interface(nic(vif, self.offloads))
        with self.host.errors(instance_uuid, "attach interface"):
            dom.attachDeviceFlags(xml, flags)
        LOG.info("attached port %s (%s) to instance %s%s", vif.id, vif.devname,
                 instance_uuid, " live" if flags & AFFECT_LIVE else "")

    def detach(self, instance_uuid: str, vif: Vif) -> None:
        """Unplug vif from the domain; a running guest must release it within
        ``detach_timeout`` seconds (its kernel acknowledges the ACPI unplug).

        :raises InstanceNotFound: no domain for this instance.
        :raises HypervisorError: libvirt refused, or the guest kept the device.
        """
        dom = self.host.lookup(instance_uuid)
        with self.host.errors(instance_uuid, "detach interface"):
            live = bool(dom.isActive())
        flags = 0
        if vif.mac in self._macs(instance_uuid, dom, inactive=True):
            flags |= AFFECT_CONFIG
        if live and vif.mac in self._macs(instance_uuid, dom, inactive=False):
            flags |= AFFECT_LIVE
        if not flags:
            LOG.info("instance %s has no port %s any more", instance_uuid, vif.id)
            return
        xml = domain_xml.interface(nic(vif, self.offloads))
        with self.host.errors(instance_uuid, "detach interface"):
            dom.detachDeviceFlags(xml, flags)
        if flags & AFFECT_LIVE:
            self._wait_released(instance_uuid, dom, vif)
        LOG.info("detached port %s from instance %s", vif.id, instance_uuid)

    def _wait_released(self, instance_uuid: str, dom: Any, vif: Vif) -> None:
        """libvirt returns before the guest lets go of a PCI device: poll the live XML."""
        deadline = self._clock() + self.detach_timeout
        while vif.mac in self._macs(instance_uuid, dom, inactive=False):
            if self._clock() >= deadline:
                raise HypervisorError(
                    f"instance {instance_uuid}: the guest did not release port {vif.id} "
                    f"within {self.detach_timeout:g} s (its kernel must support PCI "
                    "hot-unplug); the port stays attached, try again later")
            self._sleep(POLL_INTERVAL)


def start_when_wired(host: Host, dom: Any, instance: Instance, wait: PortWaiter | None,
                     timeout: float, fatal: bool) -> None:
    """Start dom; when instance has ports, paused until they are wired (see module doc).

    :raises HypervisorError: libvirt failed to start or resume the guest, or (fatal) the
        ports were not wired within timeout.
    """
    if not instance.vifs or wait is None or timeout <= 0:
        with host.errors(instance.uuid, "start"):
            dom.createWithFlags(0)
        return
    with host.errors(instance.uuid, "start paused"):
        dom.createWithFlags(START_PAUSED)
    started = time.monotonic()
    try:
        wired = wait([vif.id for vif in instance.vifs], timeout)
    except Exception:  # noqa: BLE001 - the wait is an optimisation unless fatal
        LOG.exception("instance %s: could not learn whether its ports are wired",
                      instance.uuid)
        wired = False
    if not wired:
        message = (f"instance {instance.uuid}: its ports were not wired by the network "
                   f"agent within {timeout:g} s")
        if fatal:
            raise HypervisorError(message + "; is the OVS agent on this host running?")
        LOG.warning("%s; starting it anyway (it retries DHCP)", message)
    else:
        LOG.info("instance %s: ports wired after %.1f s", instance.uuid,
                 time.monotonic() - started)
    with host.errors(instance.uuid, "resume"):
        dom.resume()


def port_waiter(statuses: StatusReader, sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic,
                interval: float = 0.5) -> PortWaiter:
    """A PortWaiter polling statuses until every port is ACTIVE (errors are retried)."""
    def wait(port_ids: Sequence[str], timeout: float) -> bool:
        deadline = clock() + timeout
        pending = list(port_ids)
        while True:
            try:
                found = statuses(pending)
                pending = [p for p in pending if found.get(p) != "ACTIVE"]
            except Exception as exc:  # noqa: BLE001 - the conductor may be restarting
                LOG.warning("could not read the status of ports %s: %s", pending, exc)
            if not pending:
                return True
            if clock() >= deadline:
                return False
            sleep(interval)
    return wait
