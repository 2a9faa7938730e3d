"""Swift's timestamps: seconds since the epoch as a fixed-width decimal string.

Every write carries an X-Timestamp from the proxy; replicas and listings merge by
comparing them, so the normal form (16 digits, 5 decimals) sorts as text.
"""

from __future__ import annotations

import email.utils
import math
import time

_MAX = 9999999999.99999


class InvalidTimestamp(ValueError):
    """A header that should hold a timestamp does not."""


def normalize(value: float | str) -> str:
    """'1700000000.1' or 1.7e9 -> '1700000000.10000'.

    :raises InvalidTimestamp: not a number in range.
    """
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidTimestamp(f"invalid timestamp {value!r}") from exc
    if not 0 <= number <= _MAX or math.isnan(number):
        raise InvalidTimestamp(f"timestamp {value!r} out of range")
    return f"{number:016.5f}"


def now() -> str:
    """The current time in normal form."""
    return f"{time.time():016.5f}"


def http_date(ts: float | str) -> str:
    """Last-Modified value: RFC 7231 date, rounded up to the whole second as Swift does."""
    return email.utils.formatdate(math.ceil(float(ts)), usegmt=True)


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch for an HTTP date, None when unparseable."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.timestamp()


def iso8601(ts: float | str) -> str:
    """Listing last_modified: 2024-01-31T12:00:00.123450 (UTC, microseconds)."""
    number = float(ts)
    whole = int(number)
    micros = int(round((number - whole) * 1_000_000))
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}"
