"""Network quotas: limits from controller.quotas (service "network"), usage counted live."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.context import RequestContext
from controller import quotas
from controller.db.models import network as models
from controller.db.models.quotas import Quota
from controller.network import exceptions as exc
from controller.runtime import Runtime

SERVICE = "network"
MODELS: dict[str, Any] = {
    "network": models.Network,
    "subnet": models.Subnet,
    "port": models.Port,
    "router": models.Router,
    "floatingip": models.FloatingIP,
    "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule,
}


def defaults(rt: Runtime) -> dict[str, int]:
    """The configured default limit of each resource."""
    return {name: getattr(rt.conf.network, f"quota_{name}") for name in MODELS}


def limits(rt: Runtime, project_id: str) -> dict[str, int]:
    return quotas.limits(rt, SERVICE, project_id, defaults(rt))


def _limit(rt: Runtime, session: orm.Session, project_id: str, resource: str) -> int:
    """One limit, read in the caller's session: a second connection while this one
    waits for a lock could exhaust the pool under load."""
    row = session.get(Quota, (SERVICE, project_id, resource))
    return row.hard_limit if row is not None else defaults(rt)[resource]


def usage(session: orm.Session, project_id: str) -> dict[str, int]:
    """How many of each resource the project holds now."""
    return {name: session.scalar(sa.select(sa.func.count()).select_from(model)
                                 .where(model.project_id == project_id)) or 0
            for name, model in MODELS.items()}


def check(rt: Runtime, session: orm.Session, project_id: str, resource: str,
          adding: int = 1, already_added: bool = False) -> None:
    """Refuse when the project would hold more of resource than its limit.

    already_added: the new rows are flushed in this transaction and so counted.

    :raises OverQuota: over the limit.
    """
    limit = _limit(rt, session, project_id, resource)
    if limit == quotas.UNLIMITED:
        return
    model = MODELS[resource]
    used = session.scalar(sa.select(sa.func.count()).select_from(model)
                          .where(model.project_id == project_id)) or 0
    if already_added:
        used -= adding
    if quotas.over({resource: adding}, {resource: used}, {resource: limit}):
        raise exc.OverQuota(f"Quota exceeded for resources: ['{resource}'].")


def show(rt: Runtime, project_id: str) -> dict[str, int]:
    return limits(rt, project_id)


def details(rt: Runtime, project_id: str) -> dict[str, dict[str, int]]:
    """{resource: {"limit", "used", "reserved"}} for `quota show --usage`."""
    project_limits = limits(rt, project_id)
    with rt.db.session() as session:
        used = usage(session, project_id)
    return {name: {"limit": project_limits[name], "used": used[name], "reserved": 0}
            for name in MODELS}


def update(rt: Runtime, ctx: RequestContext, project_id: str,
           values: dict[str, Any]) -> dict[str, int]:
    """Set limits; Neutron accepts numbers as JSON strings too.

    :raises InvalidInput: an unknown resource or a limit below -1.
    """
    clean: dict[str, int] = {}
    for name, value in values.items():
        if name not in MODELS:
            raise exc.InvalidInput(f"Invalid input for operation: unrecognized quota "
                                   f"resource {name!r}.")
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < quotas.UNLIMITED or str(value).strip() != str(number):
            raise exc.InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a "
                                   "valid integer of at least -1.")
        clean[name] = number
    quotas.set_limits(rt, SERVICE, project_id, clean, defaults(rt))
    return limits(rt, project_id)


def reset(rt: Runtime, ctx: RequestContext, project_id: str) -> None:
    quotas.reset(rt, SERVICE, project_id)


def list_overridden(rt: Runtime) -> list[dict[str, Any]]:
    """Every project with at least one limit set, with all its limits."""
    with rt.db.session() as session:
        projects = session.scalars(sa.select(Quota.project_id).where(
            Quota.service == SERVICE).distinct().order_by(Quota.project_id)).all()
    return [{"project_id": project, **limits(rt, project)} for project in projects]
