"""What the account and container servers share: metadata headers, listing queries."""

from __future__ import annotations

import json
from typing import Any

from agents.objectstore import listing
from common.objectstore.wsgi import HTTPError, Request, Response

TRUE = {"true", "1", "yes", "on", "t", "y"}


def metadata_from_headers(req: Request, prefixes: tuple[str, ...], exact: tuple[str, ...],
                          ts: str) -> dict[str, list[str]]:
    """{header: [value, timestamp]} of the metadata a request sets ('' removes)."""
    updates: dict[str, list[str]] = {}
    for prefix in prefixes:
        for key, value in req.headers_with_prefix(prefix).items():
            updates[key] = [value, ts]
    for key in exact:
        value = req.header(key)
        if value is not None:
            updates[key] = [value, ts]
    return updates


def metadata_headers(metadata: dict[str, list[str]]) -> dict[str, str]:
    """Response headers of stored metadata (removed keys left out)."""
    return {key: value for key, (value, _) in metadata.items() if value != ""}


def listing_query(req: Request) -> dict[str, Any]:
    """Listing parameters from the query string.

    :raises HTTPError: 412 for a limit outside 1..10000 or a bad delimiter.
    """
    params = req.params
    try:
        limit = int(params.get("limit", listing.MAX_LIMIT))
    except ValueError as exc:
        raise HTTPError(412, "Value of limit must be a positive integer") from exc
    if limit < 0 or limit > listing.MAX_LIMIT:
        raise HTTPError(412, f"Maximum limit is {listing.MAX_LIMIT}")
    delimiter = params.get("delimiter", "")
    if delimiter and (len(delimiter) > 1 or ord(delimiter) > 254):
        raise HTTPError(412, "Bad delimiter")
    return {"limit": limit, "marker": params.get("marker", ""),
            "end_marker": params.get("end_marker", ""), "prefix": params.get("prefix", ""),
            "delimiter": delimiter, "reverse": params.get("reverse", "").lower() in TRUE}


def json_listing(entries: list[dict[str, Any]], headers: dict[str, str]) -> Response:
    body = json.dumps(entries, ensure_ascii=False).encode("utf-8")
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    return Response(200, headers, body)
