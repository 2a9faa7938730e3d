"""Quota limits per project, shared by the compute, network and volume services.

A limit is an admin's override in the ``quotas`` table, else the service's default from
configuration; -1 means unlimited. Usage is counted by each service from its own
resources (never stored), and :func:`over` compares the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sqlalchemy as sa

from controller import exceptions
from controller.db.models.quotas import Quota
from controller.runtime import Runtime

UNLIMITED = -1


@dataclasses.dataclass(frozen=True)
class Excess:
    """One resource a request would take over its limit."""

    resource: str
    requested: int
    used: int
    limit: int


def limits(rt: Runtime, service: str, project_id: str,
           defaults: Mapping[str, int]) -> dict[str, int]:
    """The project's limit for every resource in defaults."""
    with rt.db.session() as session:
        rows = session.scalars(sa.select(Quota).where(Quota.service == service,
                                                      Quota.project_id == project_id))
        overrides = {row.resource: row.hard_limit for row in rows}
    return {name: overrides.get(name, default) for name, default in defaults.items()}


def set_limits(rt: Runtime, service: str, project_id: str, values: Mapping[str, int],
               known: Mapping[str, int]) -> None:
    """Override limits for the project.

    :raises BadRequest: a resource is not in known, or a limit is below -1.
    """
    for name, value in values.items():
        if name not in known:
            raise exceptions.BadRequest(f"Unknown quota resource {name!r}; use one of "
                                        f"{', '.join(sorted(known))}.")
        if not isinstance(value, int) or isinstance(value, bool) or value < UNLIMITED:
            raise exceptions.BadRequest(f"Quota limit {value!r} for {name} must be an "
                                        "integer of at least -1 (unlimited).")
    with rt.db.session() as session:
        for name, value in values.items():
            row = session.get(Quota, (service, project_id, name))
            if row is None:
                session.add(Quota(service=service, project_id=project_id, resource=name,
                                  hard_limit=value))
            else:
                row.hard_limit = value


def reset(rt: Runtime, service: str, project_id: str) -> None:
    """Drop every override of the project: its limits are the defaults again."""
    with rt.db.session() as session:
        session.execute(sa.delete(Quota).where(Quota.service == service,
                                               Quota.project_id == project_id))


def over(requested: Mapping[str, int], used: Mapping[str, int],
         project_limits: Mapping[str, int]) -> list[Excess]:
    """The resources for which used + requested would exceed the limit."""
    excess = []
    for name, amount in requested.items():
        limit = project_limits.get(name, UNLIMITED)
        if amount > 0 and limit != UNLIMITED and used.get(name, 0) + amount > limit:
            excess.append(Excess(name, amount, used.get(name, 0), limit))
    return excess
