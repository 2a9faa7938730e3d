"""Which headers pass between clients and nodes, and in which spelling."""

from __future__ import annotations

from common.objectstore.wsgi import Request

# headers a client may set on each kind of resource (besides X-<Kind>-Meta-*)
SETTABLE = {
    "account": ("X-Account-Meta-",),
    "container": ("X-Container-Meta-", "X-Container-Read", "X-Container-Write",
                  "X-Versions-Location", "X-History-Location"),
    "object": ("X-Object-Meta-", "Content-Disposition", "Content-Encoding",
               "X-Object-Manifest"),
}
HIDDEN_PREFIXES = ("x-backend-", "x-object-sysmeta-", "x-container-sysmeta-",
                   "x-account-sysmeta-", "x-object-transient-sysmeta-")
OWNER_ONLY = ("x-container-read", "x-container-write", "x-account-meta-temp-url-key",
              "x-account-meta-temp-url-key-2", "x-container-meta-temp-url-key",
              "x-container-meta-temp-url-key-2")
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "date", "server",
              "content-length")


def title(name: str) -> str:
    """x-object-meta-foo -> X-Object-Meta-Foo (the spelling Swift answers with)."""
    if name.lower() == "etag":
        return "Etag"
    return "-".join(part.capitalize() for part in name.split("-"))


def client_metadata(req: Request, kind: str) -> dict[str, str]:
    """Metadata headers of a PUT/POST to forward to the nodes, with
    X-Remove-<Kind>-Meta-Foo / X-Remove-Container-Read turned into empty values."""
    out: dict[str, str] = {}
    for key, value in req.all_headers().items():
        for allowed in SETTABLE[kind]:
            if allowed.endswith("-"):
                if key.startswith(allowed):
                    out[key] = value
            elif key == allowed:
                out[key] = value
        if key.startswith("X-Remove-"):
            target = "X-" + key[len("X-Remove-"):]
            for allowed in SETTABLE[kind]:
                if target.startswith(allowed) if allowed.endswith("-") else target == allowed:
                    out[target] = ""
    return out


def to_client(node_headers: dict[str, str], is_owner: bool = True) -> dict[str, str]:
    """Node response headers (lower-case keys) -> client headers (Title-Case), without
    back-end internals, hop-by-hop headers, or owner-only ones for non-owners."""
    out = {}
    for key, value in node_headers.items():
        if key.startswith(HIDDEN_PREFIXES) or key in HOP_BY_HOP:
            continue
        if not is_owner and key in OWNER_ONLY:
            continue
        out[title(key)] = value
    return out
