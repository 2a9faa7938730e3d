"""Start-up reconciliation: what to do about the host's domains and instance files.

A pure function over two views, so every rule is unit-tested without a hypervisor:

- the host: domains named ``instance-<uuid>`` with their power state, and the uuids
  that have an instance directory;
- the controller: the instances it believes are on this host, deleted ones included
  (an instance deleted while the agent was down is still listed, marked deleted).

Rules (mark and sweep, STYLE items 8 and 9):

- a domain or directory whose instance is deleted, or that the controller does not
  place on this host at all, is an orphan: destroy it and remove its files;
- a live instance's domain is left exactly as it is (a running guest keeps running)
  and its power state is reported, so the conductor can sync the database;
- a live instance with no domain is reported as missing (power state NOSTATE);
- domains not named ``instance-<uuid>``, and domains tagged with another agent's host
  (or not tagged: see ``domain_xml`` metadata ``owner``), are not ours and never appear
  here: several agents (tests, other clouds) may share one libvirtd.

The controller's list must be its complete answer: on an RPC error, do not reconcile
(an empty list would make every guest on the host look orphaned).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Iterable

from agents.compute.driver import ComputeDriver
from agents.compute.exception import ComputeError
from agents.compute.model import InstanceInfo
from agents.compute.power_state import PowerState

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Expected:
    """One instance as the controller sees it on this host."""

    uuid: str
    deleted: bool = False


class Kind(enum.Enum):
    DESTROY = "destroy"  # orphan: domain (if any) and files go
    REPORT = "report"  # live instance: tell the conductor its power state
    MISSING = "missing"  # live instance without a domain here


@dataclasses.dataclass(frozen=True)
class Action:
    kind: Kind
    uuid: str
    reason: str
    power_state: PowerState = PowerState.NOSTATE


def plan(domains: Iterable[InstanceInfo], expected: Iterable[Expected],
         instance_dirs: Iterable[str] = ()) -> list[Action]:
    """The actions that converge this host on the controller's view (sorted by uuid)."""
    wanted = {item.uuid: item for item in expected}
    on_host = {info.uuid: info for info in domains}
    actions = []
    for uuid in sorted(set(on_host) | set(instance_dirs)):
        item = wanted.get(uuid)
        what = "domain" if uuid in on_host else "files"
        if item is None:
            actions.append(Action(Kind.DESTROY, uuid, f"{what} of an instance the "
                                  "controller does not place on this host"))
        elif item.deleted:
            actions.append(Action(Kind.DESTROY, uuid, f"{what} of a deleted instance"))
        elif uuid in on_host:
            actions.append(Action(Kind.REPORT, uuid, on_host[uuid].state_reason or "domain found",
                                  on_host[uuid].power_state))
    for uuid in sorted(set(wanted) - set(on_host)):
        if not wanted[uuid].deleted:
            actions.append(Action(Kind.MISSING, uuid, "no domain on this host"))
    return sorted(actions, key=lambda action: (action.uuid, action.kind.value))


def converge(driver: ComputeDriver, expected: Iterable[Expected]) -> list[Action]:
    """Plan against the driver's view of the host and destroy the orphans.

    Returns every action (the REPORT and MISSING ones are for the conductor). A failed
    destroy is logged and left for the next full resync rather than stopping the rest.

    :raises HypervisorUnavailable: the host's domains cannot be listed.
    """
    actions = plan(driver.list_instances(), expected, driver.list_instance_files())
    for action in actions:
        if action.kind is Kind.DESTROY:
            LOG.warning("reconcile: destroying instance %s: %s", action.uuid, action.reason)
            try:
                driver.destroy(action.uuid)
            except ComputeError:
                LOG.exception("reconcile: could not destroy orphan %s; will retry at the "
                              "next resync", action.uuid)
    return actions
