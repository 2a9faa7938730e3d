"""/v2.0/extensions: what the clients may rely on."""

from __future__ import annotations

from controller.api.network import bp, common
from controller.network import extensions


@bp.get("/v2.0/extensions")
def list_extensions():
    common.context()
    return common.listing("extensions", extensions.list_(), ident="alias")


@bp.get("/v2.0/extensions/<alias>")
def show_extension(alias: str):
    common.context()
    return common.show("extension", extensions.get(alias))
