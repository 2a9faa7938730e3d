"""May this caller do this? Owners, reseller admins, readers, ACLs and referrers.

* ``reseller_admin_role`` holders may do anything to any account;
* ``operator_roles`` holders own their project's account (``<prefix><project_id>``);
* ``reader_roles`` holders may read their project's account;
* anyone else only what a container's X-Container-Read / X-Container-Write grants;
* a TempURL grants exactly the signed method on the signed object.

Denials are 401 for anonymous callers (so clients know to authenticate) and 403
for authenticated ones.
"""

from __future__ import annotations

from common.objectstore.wsgi import HTTPError
from controller.objectproxy import acl
from controller.objectproxy.auth import Identity
from controller.objectproxy.request import ProxyRequest

READ_METHODS = ("GET", "HEAD")


class Authorizer:
    """Role and ACL checks configured from [object_proxy]."""

    def __init__(self, reseller_prefix: str, operator_roles: list[str],
                 reader_roles: list[str], reseller_admin_role: str):
        self.prefix = reseller_prefix
        self.operator_roles = {r.lower() for r in operator_roles}
        self.reader_roles = {r.lower() for r in reader_roles}
        self.reseller_admin_role = reseller_admin_role.lower()

    def classify(self, preq: ProxyRequest) -> None:
        """Set is_owner / is_reader from the caller's roles and project."""
        ident = preq.identity
        if ident is None:
            return
        roles = {r.lower() for r in ident.roles}
        if self.reseller_admin_role in roles:
            preq.is_owner = True
        elif ident.project_id and preq.account == self.prefix + ident.project_id:
            preq.is_owner = bool(roles & self.operator_roles)
            preq.is_reader = preq.is_owner or bool(roles & self.reader_roles)
        preq.is_reader = preq.is_reader or preq.is_owner

    def deny(self, preq: ProxyRequest) -> HTTPError:
        return HTTPError(403 if preq.identity is not None else 401)

    def require_owner(self, preq: ProxyRequest) -> None:
        """Account writes, container writes and ACL changes."""
        if not preq.is_owner:
            raise self.deny(preq)

    def require_account_read(self, preq: ProxyRequest) -> None:
        if not preq.is_reader:
            raise self.deny(preq)

    def may_list(self, preq: ProxyRequest, read_acl: str | None) -> bool:
        """Container GET/HEAD: owners, readers, read-ACL matches, or .r + .rlistings."""
        if preq.is_reader:
            return True
        referrers, groups = acl.parse(read_acl)
        if preq.identity is not None and _acl_match(preq.identity, groups):
            return True
        return ".rlistings" in groups and acl.referrer_allowed(preq.header("Referer"),
                                                               referrers)

    def require_object_access(self, preq: ProxyRequest, container_info: dict | None,
                              method: str | None = None) -> None:
        """Object requests: owners, TempURL, readers for reads, else the ACLs."""
        method = method or preq.method
        if preq.is_owner or preq.tempurl:
            return
        if method in READ_METHODS and preq.is_reader:
            return
        info = container_info or {}
        if method in READ_METHODS:
            referrers, groups = acl.parse(info.get("x-container-read"))
            if preq.identity is not None and _acl_match(preq.identity, groups):
                return
            if acl.referrer_allowed(preq.header("Referer"), referrers):
                return
        else:
            _, groups = acl.parse(info.get("x-container-write"))
            if preq.identity is not None and _acl_match(preq.identity, groups):
                return
        raise self.deny(preq)


def _acl_match(identity: Identity, groups: list[str]) -> bool:
    return acl.identity_allowed(identity, groups)
