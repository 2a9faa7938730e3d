"""Request bodies: parse JSON strictly, validate with JSON schema, explain failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import flask
import jsonschema

from controller import exceptions

_validators: dict[int, jsonschema.Draft202012Validator] = {}


def json_body(required: bool = True) -> Any:
    """The request body as JSON.

    Only JSON bodies are size-limited here: streamed uploads (image data, objects) have
    limits of their own and never pass through this function.

    :raises RequestEntityTooLarge: the body is over `[api] max_request_body_size`.
    :raises BadRequest: missing, malformed, nested too deeply, or holding strings no
        database can store (NUL characters, unpaired surrogates).
    """
    limit = flask.current_app.config["STRATUS"].rt.conf.api.max_request_body_size
    length = flask.request.content_length
    if length is not None and length > limit:
        raise exceptions.RequestEntityTooLarge(
            f"The request body is {length} bytes; the limit is {limit}.")
    raw = flask.request.stream.read(limit + 1) if length is None else flask.request.get_data()
    if len(raw) > limit:
        raise exceptions.RequestEntityTooLarge(f"The request body is over {limit} bytes.")
    if not raw:
        if required:
            raise exceptions.BadRequest("The request needs a JSON body.")
        return None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise exceptions.BadRequest(f"The request body is not valid JSON: {exc}.") from exc
    except RecursionError as exc:
        raise exceptions.BadRequest("The request body is nested too deeply.") from exc
    for text in _strings(document):
        if "\x00" in text:
            raise exceptions.BadRequest("Strings in the request body may not contain NUL.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise exceptions.BadRequest("The request body contains an unpaired surrogate; "
                                        "send valid UTF-8.") from exc
    return document


def _strings(document: Any) -> Iterator[str]:
    """Every string (keys too) in a parsed JSON document, without recursion."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def reject_nul_in_url() -> None:
    """NUL never belongs in an ID, name or filter, and PostgreSQL cannot store it.

    :raises BadRequest: the path or query string contains NUL.
    """
    values = [flask.request.path, *flask.request.args.keys(), *flask.request.args.values()]
    if any("\x00" in value for value in values):
        raise exceptions.BadRequest("The URL contains a NUL character.")


def validate(schema: dict[str, Any], document: Any) -> Any:
    """Return document if it matches schema.

    :raises ValidationError: with the path and reason of the first problem found.
    """
    validator = _validators.get(id(schema))
    if validator is None:
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        _validators[id(schema)] = validator
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "request body"
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        raise exceptions.ValidationError(f"Invalid input for field '{where}': {message}")
    return document


def body(schema: dict[str, Any]) -> Any:
    """Parse and validate the request body in one step."""
    return validate(schema, json_body())


def bool_arg(name: str) -> bool | None:
    """A boolean query parameter; present without a value means true, as Keystone reads it."""
    if name not in flask.request.args:
        return None
    value = flask.request.args.get(name, "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise exceptions.BadRequest(f"Query parameter {name} must be true or false, not {value!r}.")


def string(max_length: int = 255, min_length: int = 0) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


# A name has at least one visible character and no control characters.
NAME = {"type": "string", "minLength": 1, "maxLength": 64,
        "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$"}
ID = {"type": "string", "minLength": 1, "maxLength": 64}
NULLABLE_ID = {"type": ["string", "null"], "maxLength": 64}
BOOLEAN = {"type": "boolean"}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 65535}
