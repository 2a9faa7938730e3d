"""Power states as the compute API reports them (Nova's numeric values, on the wire)."""

from __future__ import annotations

import enum

from agents.compute.exception import InvalidPowerState


class PowerState(enum.IntEnum):
    """What the hypervisor says the guest is doing; the API shows these numbers."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


_ANY = frozenset(PowerState)
_OFF = frozenset({PowerState.SHUTDOWN, PowerState.NOSTATE, PowerState.CRASHED})

# action -> (states it runs from, states in which it is already done).
# One line per action; every driver checks through `check`, so the fake and libvirt agree.
TRANSITIONS: dict[str, tuple[frozenset[PowerState], frozenset[PowerState]]] = {
    "power_off": (frozenset({PowerState.RUNNING, PowerState.PAUSED, PowerState.SUSPENDED,
                             PowerState.CRASHED}), frozenset({PowerState.SHUTDOWN,
                                                              PowerState.NOSTATE})),
    "power_on": (_OFF, frozenset({PowerState.RUNNING})),
    "soft reboot": (frozenset({PowerState.RUNNING}), frozenset()),
    "hard reboot": (_ANY, frozenset()),
    "pause": (frozenset({PowerState.RUNNING}), frozenset({PowerState.PAUSED})),
    "unpause": (frozenset({PowerState.PAUSED}), frozenset({PowerState.RUNNING})),
    "suspend": (frozenset({PowerState.RUNNING, PowerState.PAUSED}),
                frozenset({PowerState.SUSPENDED})),
    "resume": (frozenset({PowerState.SUSPENDED}), frozenset({PowerState.RUNNING})),
}

_HINTS = {
    PowerState.PAUSED: "unpause it first",
    PowerState.SUSPENDED: "resume it first",
    PowerState.SHUTDOWN: "start it first",
    PowerState.NOSTATE: "start it first",
    PowerState.CRASHED: "start it first",
}


def check(instance_uuid: str, action: str, state: PowerState) -> bool:
    """True when action must run from state, False when it is already done.

    :raises InvalidPowerState: action is not allowed in state.
    """
    runs_from, done_in = TRANSITIONS[action]
    if state in done_in:
        return False
    if state in runs_from:
        return True
    raise InvalidPowerState(instance_uuid, action, state.name, _HINTS.get(state, ""))
