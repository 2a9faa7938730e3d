"""What every API fuzz test shares: request bodies, the app's routes, and one request.

Each service's fuzz test (identity, compute, network, volume) names its own fields,
wrappers, callers and query keys, and checks its own fault format; the machinery lives
here once.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hypothesis import strategies as st

from controller.api.app import create_app
from tests.functional import support

FORGED_TOKEN = "gAAAAABforged-token"


def bodies(fields: list[str], wrappers: list[str],
           extra_scalars: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """Random JSON, JSON shaped like {wrapper: {field: value}}, and raw bytes."""
    scalars = (st.none() | st.booleans() | st.integers(min_value=-2 ** 40, max_value=2 ** 40)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=60)
               | st.text(min_size=250, max_size=300))
    if extra_scalars is not None:
        scalars = scalars | extra_scalars
    values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(fields) | st.text(max_size=10), inner,
                          max_size=4),
        max_leaves=10)
    shaped = st.builds(lambda key, inner: {key: inner}, st.sampled_from(wrappers),
                       st.dictionaries(st.sampled_from(fields), values, max_size=6))
    return st.none() | values | shaped | st.binary(max_size=64)


def routes(prefix: str, skip: Callable[[Any], bool] = lambda rule: False,
           methods: Callable[[Any], Iterable[str]] | None = None) -> list[tuple[str, str]]:
    """(rule, method) of every route of the app under prefix, sorted."""
    app = create_app(support.make_conf("sqlite://", "/nonexistent"))

    def found() -> Iterator[tuple[str, str]]:
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(prefix) or skip(rule):
                continue
            chosen = methods(rule) if methods else rule.methods - {"OPTIONS", "HEAD"}
            for method in sorted(chosen):
                yield rule.rule, method

    return sorted(set(found()))


def request(client: Any, rule: str, method: str, params: list[str],
            headers: dict[str, str], query: dict[str, str], body: Any) -> Any:
    """Send one fuzzed request: rule's placeholders filled from params, in order."""
    values = iter(params)
    path = re.sub(r"<(?:\w+:)?\w+>", lambda _: urllib.parse.quote(next(values), safe=""),
                  rule)
    kwargs = {"json": body} if not isinstance(body, bytes) else {
        "data": body, "content_type": "application/json"}
    response = client.open(path, method=method, headers=headers, query_string=query,
                           **kwargs)
    assert response.status_code < 500, (method, path, body, query, response.get_data()[:300])
    return response
