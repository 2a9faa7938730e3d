"""What an operation's failure becomes: the fault message and code, whether a build is
rescheduled, and the guard that keeps exceptions from leaving an RPC cast."""

from __future__ import annotations

import logging
from typing import Any

from agents.compute import exception as exc_types
from agents.compute.exception import ComputeError
from agents.compute.model import canonical_uuid

LOG = logging.getLogger(__name__)

# Errors another host would hit just the same: do not reschedule the build.
NOT_RESCHEDULABLE = (exc_types.InvalidInput, exc_types.NotSupported, exc_types.DiskTooSmall,
                     exc_types.ImageChecksumMismatch, exc_types.ImageUnacceptable)


def fault_code(error: Exception) -> int:
    """The HTTP-like code recorded with a fault."""
    if isinstance(error, (exc_types.InvalidInput, exc_types.DiskTooSmall)):
        return 400
    if isinstance(error, exc_types.InvalidPowerState):
        return 409
    return 500


def describe(error: Exception) -> str:
    """A fault message: the driver's own (it says what to do), or a generic one."""
    if isinstance(error, ComputeError):
        return str(error)
    return f"Unexpected {type(error).__name__} on the compute agent: {error}; see its log"


class Abandoned(Exception):
    """The operation stopped because the instance was deleted meanwhile."""


class Swallow:
    """Context manager: exceptions leaving a cast are logged, not raised to the server
    (it would only log them again, with less context)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None:
            return False
        if isinstance(error, ComputeError):
            LOG.info("operation ended with %s: %s", type(error).__name__, error)
        else:
            LOG.error("operation failed", exc_info=(kind, error, tb))
        return True


def uuid_of(value: Any) -> str | None:
    try:
        return canonical_uuid(value)
    except ComputeError:
        LOG.error("a message names no valid instance uuid (%r); ignored", value)
        return None


def details(error: Exception) -> str | None:
    cause = error.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else None
