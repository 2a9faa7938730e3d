"""OpenStack-API-Version negotiation for services that declare microversions."""

from __future__ import annotations

import dataclasses
import functools
import re

import flask

from controller import exceptions

_VERSION_RE = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@functools.total_ordering
@dataclasses.dataclass(frozen=True)
class Version:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION_RE.match(text.strip())
        if not match:
            raise exceptions.BadRequest(
                f"Version string {text!r} is not of the form MAJOR.MINOR, nor 'latest'.")
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other: Version) -> bool:
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def requested(service_type: str, legacy_header: str | None = None) -> str | None:
    """The version string the client asked for, if any."""
    header = flask.request.headers.get("OpenStack-API-Version", "")
    for part in header.split(","):
        name, _, value = part.strip().partition(" ")
        if name.lower() == service_type and value.strip():
            return value.strip()
    if legacy_header:
        return flask.request.headers.get(legacy_header) or None
    return None


def negotiate(service_type: str, minimum: Version, maximum: Version,
              legacy_header: str | None = None) -> Version:
    """The version to serve: the minimum when none is asked, the maximum for 'latest'.

    :raises NotAcceptable: the requested version is outside [minimum, maximum].
    """
    asked = requested(service_type, legacy_header)
    if asked is None:
        return minimum
    if asked.lower() == "latest":
        return maximum
    version = Version.parse(asked)
    if not minimum <= version <= maximum:
        raise exceptions.NotAcceptable(
            f"Version {version} is not supported by the API. Minimum is {minimum} and "
            f"maximum is {maximum}.")
    return version


def annotate(response: flask.Response, service_type: str, version: Version,
             legacy_header: str | None = None) -> None:
    """Tell the client which version it got, and caches that it varies by header."""
    response.headers["OpenStack-API-Version"] = f"{service_type} {version}"
    vary = ["OpenStack-API-Version"]
    if legacy_header:
        response.headers[legacy_header] = str(version)
        vary.append(legacy_header)
    response.headers["Vary"] = ", ".join(vary)
