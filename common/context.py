"""The request context that travels from the API through RPC to the agents."""

from __future__ import annotations

import contextvars
import dataclasses
import re
import uuid
from typing import Any

_REQUEST_ID_RE = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_request_id", default="-")


def new_request_id() -> str:
    """Return a request ID in the format every OpenStack service uses."""
    return f"req-{uuid.uuid4()}"


def is_valid_request_id(value: str | None) -> bool:
    """Only IDs of the standard shape are accepted from callers, so logs stay parseable."""
    return bool(value) and bool(_REQUEST_ID_RE.match(value))


@dataclasses.dataclass
class RequestContext:
    """Who is asking, for which scope, under which request ID."""

    request_id: str = dataclasses.field(default_factory=new_request_id)
    global_request_id: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    domain_id: str | None = None
    roles: list[str] = dataclasses.field(default_factory=list)
    auth_token: str | None = None
    audit_ids: list[str] = dataclasses.field(default_factory=list)
    application_credential_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def policy_creds(self) -> dict[str, Any]:
        """The credentials dict oslo.policy matches rules against."""
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "domain_id": self.domain_id,
            "roles": self.roles,
            "is_admin": self.is_admin,
        }

    def redacted_copy(self) -> RequestContext:
        """A copy without the token: what notifications carry (oslo.messaging asks)."""
        return dataclasses.replace(self, auth_token=None)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("auth_token")  # tokens never go on the bus
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestContext:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def admin(cls) -> RequestContext:
        """A context for daemons acting on their own behalf."""
        return cls(roles=["admin"], user_name="stratus-internal")
