"""Container ACLs (X-Container-Read / X-Container-Write) in Swift's keystone format.

Elements, comma separated:

* ``<project>:<user>`` with ids or names, either side may be ``*``;
* a role name: anyone holding that role;
* ``.r:<referrer>`` (read only): anonymous access from matching Referer headers,
  ``.r:*`` for everyone, ``.r:.example.com`` for a domain, ``.r:-host`` to exclude;
* ``.rlistings`` (read only): referrer access may also list the container.
"""

from __future__ import annotations

import urllib.parse

from common.objectstore.wsgi import HTTPError
from controller.objectproxy.auth import Identity


def parse(value: str | None) -> tuple[list[str], list[str]]:
    """(referrers, other elements) of an ACL header value.

    :raises HTTPError: 400 for a malformed element.
    """
    referrers: list[str] = []
    groups: list[str] = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("."):
            if item.startswith(".r:") and len(item) > 3:
                referrers.append(item[3:])
            elif item in (".rlistings",):
                groups.append(item)
            elif item.startswith((".ref:", ".referer:", ".referrer:")) and ":" in item:
                referrers.append(item.split(":", 1)[1])
            else:
                raise HTTPError(400, f"Unknown ACL element {item!r}")
        else:
            groups.append(item)
    return referrers, groups


def validate_write_acl(value: str | None) -> None:
    """Referrer elements make no sense for writes. :raises HTTPError: 400."""
    referrers, groups = parse(value)
    if referrers or ".rlistings" in groups:
        raise HTTPError(400, "Referrers not allowed in write ACL: " + (value or ""))


def referrer_allowed(referrer: str | None, referrers: list[str]) -> bool:
    """Does a Referer header satisfy the .r: elements (last match wins, as in Swift)?"""
    host = urllib.parse.urlsplit(referrer or "").hostname or ""
    allowed = False
    for item in referrers:
        negate = item.startswith("-")
        pattern = item[1:] if negate else item
        if pattern == "*" or (pattern.startswith(".") and host.endswith(pattern)) or \
                host == pattern:
            allowed = not negate
    return allowed


def identity_allowed(identity: Identity, groups: list[str]) -> bool:
    """Does an authenticated caller match a project:user or role element?"""
    for item in groups:
        if item == ".rlistings":
            continue
        if ":" in item:
            project, user = item.split(":", 1)
            if project in ("*", identity.project_id, identity.project_name) and \
                    user in ("*", identity.user_id, identity.user_name):
                return True
        elif item in identity.roles:
            return True
    return False
