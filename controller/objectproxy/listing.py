"""Listing formats: the nodes answer JSON; clients may ask for plain text or XML."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from common.objectstore.wsgi import Request

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
PLAIN_TYPE = "text/plain; charset=utf-8"


def choose_format(req: Request) -> str:
    """'json', 'xml' or 'plain': ?format= first, then the Accept header (Swift's rule)."""
    fmt = req.params.get("format", "").lower()
    if fmt in ("json", "xml"):
        return fmt
    if fmt in ("plain", "text"):
        return "plain"
    accept = (req.header("Accept") or "").lower()
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def _xml_entry(kind: str, entry: dict[str, Any]) -> str:
    if "subdir" in entry:
        name = escape(entry["subdir"])
        return f'<subdir name={quoteattr(entry["subdir"])}><name>{name}</name></subdir>'
    tag = "object" if kind == "container" else "container"
    fields = ("name", "hash", "bytes", "content_type", "last_modified") if tag == "object" \
        else ("name", "count", "bytes", "last_modified")
    inner = "".join(f"<{f}>{escape(str(entry.get(f, '')))}</{f}>" for f in fields)
    return f"<{tag}>{inner}</{tag}>"


def render(raw_json: bytes, fmt: str, kind: str, name: str) -> tuple[int, bytes, str]:
    """(status, body, content type) of a listing; kind is 'container' or 'account'
    (what is being listed). An empty plain-text listing is a 204, as in Swift."""
    if fmt == "json":
        return 200, raw_json, JSON_TYPE
    entries = json.loads(raw_json)
    if fmt == "xml":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<{kind} name={quoteattr(name)}>"
                + "".join(_xml_entry(kind, e) for e in entries) + f"</{kind}>")
        return 200, body.encode("utf-8"), XML_TYPE
    if not entries:
        return 204, b"", PLAIN_TYPE
    names = [e.get("subdir") or e["name"] for e in entries]
    return 200, ("\n".join(names) + "\n").encode("utf-8"), PLAIN_TYPE
