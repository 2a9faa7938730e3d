"""The image-list query string, parsed and checked as Glance does."""

from __future__ import annotations

import datetime

import flask
from werkzeug.datastructures import MultiDict

from controller import exceptions
from controller.image import listing

MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")
VISIBILITIES = ("community", "public", "private", "shared", "all")
_CONTROL = {"limit", "marker", "sort", "sort_key", "sort_dir", "member_status",
            "visibility", "os_hidden", "protected", "size_min", "size_max", "tag",
            "created_at", "updated_at", "changes-since", "deleted", *listing.COLUMN_FILTERS}


def _bool(args: MultiDict, name: str) -> bool | None:
    if name not in args:
        return None
    value = args[name].lower()
    if value not in ("true", "false"):
        raise exceptions.BadRequest(f"Invalid value '{args[name][:50]}' for '{name}' filter."
                                    " Valid values are 'true' or 'false'.")
    return value == "true"


MAX_BIGINT = 2 ** 63 - 1  # what an SQL BIGINT holds; larger filters change nothing


def _int(args: MultiDict, name: str, minimum: int = 0) -> int | None:
    if name not in args:
        return None
    try:
        value = int(args[name])
    except ValueError:
        raise exceptions.BadRequest(f"{name} param must be an integer") from None
    if value < minimum:
        raise exceptions.BadRequest(f"{name} param must be positive")
    return min(value, MAX_BIGINT)


def _sort_key(key: str) -> str:
    if key not in listing.SORT_KEYS:
        raise exceptions.BadRequest(f"Invalid sort key: {key[:50]}. It must be one of the "
                                    f"following: {', '.join(listing.SORT_KEYS)}.")
    return key


def _sort_dir(direction: str) -> str:
    if direction not in ("asc", "desc"):
        raise exceptions.BadRequest(f"Invalid sort direction: {direction[:50]}")
    return direction


def _sort(args: MultiDict) -> list[tuple[str, str]]:
    """sort=k1:dir,k2 or the classic repeated sort_key/sort_dir; created_at desc by default."""
    if "sort" in args:
        if "sort_key" in args or "sort_dir" in args:
            raise exceptions.BadRequest("Old and new sorting syntax cannot be combined")
        result = []
        for item in args["sort"].strip().split(","):
            key, _, direction = item.partition(":")
            result.append((_sort_key(key.strip()), _sort_dir(direction.strip() or "desc")))
        return result
    keys = [_sort_key(key.strip()) for key in args.getlist("sort_key")] or ["created_at"]
    dirs = [_sort_dir(direction.strip()) for direction in args.getlist("sort_dir")] or ["desc"]
    if len(dirs) > 1 and len(dirs) != len(keys):
        raise exceptions.BadRequest("Number of sort dirs does not match the number of sort "
                                    "keys")
    return [(key, dirs[index] if len(dirs) > 1 else dirs[0]) for index, key in enumerate(keys)]


def _time(name: str, raw: str) -> tuple[str, str, datetime.datetime]:
    operator, _, value = raw.partition(":")
    if operator not in listing.TIME_OPERATORS or not value:
        raise exceptions.BadRequest(f"Invalid operator for {name}: use one of "
                                    f"{', '.join(listing.TIME_OPERATORS)}, as in "
                                    f"{name}=gte:2024-01-01T00:00:00Z.")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise exceptions.BadRequest(f"Invalid time format for {name}: {value[:50]}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return name, operator, moment


def list_query(limit_default: int, limit_max: int) -> listing.ListQuery:
    """The ListQuery this request asks for.

    :raises BadRequest: a malformed limit, sort, filter or operator.
    """
    args = flask.request.args
    if "changes-since" in args:
        raise exceptions.BadRequest('The "changes-since" filter is no longer available on v2.')
    member_status = args.get("member_status", "accepted")
    if member_status not in MEMBER_STATUSES:
        raise exceptions.BadRequest(f"Invalid status: {member_status[:50]}")
    visibility = args.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise exceptions.BadRequest(f"Invalid visibility value: {visibility[:50]}")
    limit = _int(args, "limit")
    size_min, size_max = _int(args, "size_min"), _int(args, "size_max")
    return listing.ListQuery(
        limit=min(limit_default if limit is None else limit, limit_max),
        marker=args.get("marker"), sort=_sort(args), member_status=member_status,
        visibility=visibility, os_hidden=bool(_bool(args, "os_hidden")),
        protected=_bool(args, "protected"), size_min=size_min, size_max=size_max,
        columns={name: (args[name][3:].split(",") if args[name].startswith("in:")
                        else [args[name]])
                 for name in listing.COLUMN_FILTERS if name in args},
        times=[_time(name, args[name]) for name in ("created_at", "updated_at")
               if name in args],
        tags=[tag.strip() for tag in args.getlist("tag")],
        # Any other parameter filters on a custom property, as in Glance.
        properties={name: args[name] for name in args if name not in _CONTROL})
