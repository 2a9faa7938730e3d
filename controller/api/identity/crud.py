"""The five routes (list, create, show, update, delete) most identity resources share."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import flask

from controller.api import handler, validation
from controller.api.identity import views

Filters = dict[str, str]  # query parameter -> "str" | "bool"


@dataclasses.dataclass
class Resource:
    """How one identity resource maps onto the service layer."""

    singular: str
    plural: str
    view: Callable[[Any], dict]
    list: Callable
    create: Callable
    get: Callable
    update: Callable
    delete: Callable
    create_schema: dict
    update_schema: dict
    filters: Filters = dataclasses.field(default_factory=dict)
    id_converter: str = "string"

    def rule(self, action: str) -> str:
        name = self.plural if action == "list" else self.singular
        return f"identity:{action}_{name}"

    def target(self, ident: str) -> dict[str, Any]:
        return {f"target.{self.singular}.id": ident}


def query_filters(filters: Filters) -> dict[str, Any]:
    """The filters present in the query string, converted to their types."""
    result: dict[str, Any] = {}
    for name, kind in filters.items():
        if kind == "bool":
            value = validation.bool_arg(name)
            if value is not None:
                result[name] = value
        elif name in flask.request.args:
            result[name] = flask.request.args[name]
    return result


def register(bp: flask.Blueprint, res: Resource) -> None:
    """Add the collection and member routes for res to bp."""
    collection = f"/v3/{res.plural}"
    member = f"{collection}/<{res.id_converter}:ident>"

    def list_():
        handler.authorize(res.rule("list"))
        rows = res.list(handler.runtime(), query_filters(res.filters))
        return views.collection(res.plural, rows, res.view)

    def create():
        ctx = handler.authorize(res.rule("create"))
        values = validation.body(res.create_schema)[res.singular]
        return handler.created({res.singular: res.view(
            res.create(handler.runtime(), ctx, values))})

    def show(ident: str):
        handler.authorize(res.rule("get"), res.target(ident))
        return {res.singular: res.view(res.get(handler.runtime(), ident))}

    def update(ident: str):
        ctx = handler.authorize(res.rule("update"), res.target(ident))
        values = validation.body(res.update_schema)[res.singular]
        values.pop("id", None)
        return {res.singular: res.view(res.update(handler.runtime(), ctx, ident, values))}

    def delete(ident: str):
        ctx = handler.authorize(res.rule("delete"), res.target(ident))
        res.delete(handler.runtime(), ctx, ident)
        return handler.no_content()

    bp.add_url_rule(collection, f"list_{res.plural}", list_, methods=["GET"])
    bp.add_url_rule(collection, f"create_{res.singular}", create, methods=["POST"])
    bp.add_url_rule(member, f"get_{res.singular}", show, methods=["GET"])
    bp.add_url_rule(member, f"update_{res.singular}", update, methods=["PATCH"])
    bp.add_url_rule(member, f"delete_{res.singular}", delete, methods=["DELETE"])
