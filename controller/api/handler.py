"""Small helpers every API handler uses: the runtime, the caller, policy, responses."""

from __future__ import annotations

from typing import Any

import flask

from common.context import RequestContext
from controller import exceptions
from controller.api.app import state
from controller.api.auth import require_context
from controller.runtime import Runtime


def runtime() -> Runtime:
    return state().rt


def authorize(rule: str, target: dict[str, Any] | None = None) -> RequestContext:
    """Authenticate the caller and check rule against target; return the caller.

    :raises Unauthorized: no valid token.
    :raises Forbidden: the policy says no.
    """
    ctx = require_context()
    state().policy.enforce(ctx, rule, target)
    return ctx


def allowed(ctx: RequestContext, rule: str, target: dict[str, Any] | None = None) -> bool:
    """Whether policy lets ctx do rule (for optional attributes and filters: never
    raises)."""
    try:
        state().policy.enforce(ctx, rule, target)
    except exceptions.Forbidden:
        return False
    return True


def no_content() -> flask.Response:
    return flask.Response(status=204)


def created(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return body, 201
