"""Small helpers every API handler uses: the runtime, the caller, policy, responses."""

from __future__ import annotations

from typing import Any

import flask

from common.context import RequestContext
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


def no_content() -> flask.Response:
    return flask.Response(status=204)


def created(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return body, 201
