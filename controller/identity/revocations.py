"""Token revocation events: written on logout, disable, password change, role removal."""

from __future__ import annotations

import dataclasses
import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import utcnow
from controller.db.models.identity import RevocationEvent
from controller.identity import revision


@dataclasses.dataclass(frozen=True)
class Event:
    audit_id: str | None
    user_id: str | None
    project_id: str | None
    issued_before: datetime.datetime


def revoke(session: orm.Session, token_lifetime: int, *, audit_id: str | None = None,
           user_id: str | None = None, project_id: str | None = None) -> None:
    """Revoke every token matching all the given fields issued up to now.

    An event outlives every token it could match by one token lifetime, then is purged.
    """
    now = utcnow()
    session.execute(sa.delete(RevocationEvent).where(RevocationEvent.expires_at < now))
    session.add(RevocationEvent(
        audit_id=audit_id, user_id=user_id, project_id=project_id, issued_before=now,
        expires_at=now + datetime.timedelta(seconds=token_lifetime + 60)))
    revision.bump(session)


def active(session: orm.Session) -> list[Event]:
    """Events still able to match a live token (revoke() purges the expired ones)."""
    rows = session.scalars(
        sa.select(RevocationEvent).where(RevocationEvent.expires_at >= utcnow()))
    return [Event(r.audit_id, r.user_id, r.project_id, r.issued_before) for r in rows]


def matches(event: Event, *, audit_ids: list[str], user_id: str, project_id: str | None,
            issued_at: datetime.datetime) -> bool:
    """True when event revokes a token with these claims."""
    if issued_at > event.issued_before:
        return False
    if event.audit_id is not None and event.audit_id not in audit_ids:
        return False
    if event.user_id is not None and event.user_id != user_id:
        return False
    if event.project_id is not None and event.project_id != project_id:
        return False
    return True
