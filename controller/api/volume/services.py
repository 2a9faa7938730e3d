"""/os-services, /os-availability-zone, /extensions and /scheduler-stats/get_pools."""

from __future__ import annotations

import flask

from controller import exceptions
from controller.api import handler, validation, volume
from controller.api.volume import route, schemas, views
from controller.volume import services

_EXTENSIONS = (
    ("AvailabilityZones", "os-availability-zone", "Describe Availability Zones."),
    ("Backups", "backups", "Backups support."),
    ("ExtendedSnapshotAttributes", "os-extended-snapshot-attributes",
     "Extended SnapshotAttributes support."),
    ("QuotaSets", "os-quota-sets", "Quota management support."),
    ("SchedulerStats", "scheduler-stats", "Scheduler stats support."),
    ("Services", "os-services", "Services support."),
    ("TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support."),
    ("TypesManage", "os-types-manage", "Types manage support."),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being "
                                     "used."),
    ("VolumeActions", "os-volume-actions", "Enable volume actions."),
    ("VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume."),
    ("VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the "
                                                 "volume."),
    ("VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an "
                                                    "attribute of a volume."),
    ("VolumeTypeAccess", "os-volume-type-access", "Volume type access support."),
    ("AdminActions", "os-admin-actions", "Enable admin actions."),
)


@route("/os-services", ["GET"])
def list_services():
    ctx = volume.authorize("volume_extension:services:index")
    rows = services.list_(handler.runtime(), ctx, flask.request.args.get("host"),
                          flask.request.args.get("binary"))
    for row in rows:
        row["updated_at"] = views.isotime(row["updated_at"])
        if not volume.at_least("3.7"):
            row.pop("cluster")
        if not volume.at_least("3.49"):
            row.pop("backend_state")
    return {"services": rows}


@route("/os-services/<action>", ["PUT"])
def update_service(action: str):
    ctx = volume.authorize("volume_extension:services:update")
    if action not in ("enable", "disable", "disable-log-reason"):
        raise exceptions.NotFound(f"Unknown os-services action {action}: use enable, disable "
                                  "or disable-log-reason.")
    body = validation.body(schemas.SERVICE_UPDATE)
    reason = body.get("disabled_reason") if action == "disable-log-reason" else None
    if action == "disable-log-reason" and not (reason or "").strip():
        raise exceptions.BadRequest("Disabled reason contains invalid characters or is too "
                                    "long")
    return services.set_enabled(handler.runtime(), ctx, body["host"],
                                body.get("binary") or services.SHOWN_BINARY,
                                action == "enable", reason)


@route("/os-availability-zone", ["GET"])
def list_zones():
    ctx = volume.authorize("volume_extension:availability_zone_list")
    return {"availabilityZoneInfo": [
        {"zoneName": name, "zoneState": {"available": available}}
        for name, available in services.zones(handler.runtime(), ctx)]}


@route("/extensions", ["GET"])
def list_extensions():
    handler.authorize("volume_extension:availability_zone_list")
    return {"extensions": [{"name": name, "alias": alias, "description": description,
                            "updated": "2013-04-18T00:00:00+00:00", "links": []}
                           for name, alias, description in _EXTENSIONS]}


@route("/scheduler-stats/get_pools", ["GET"])
def get_pools():
    ctx = volume.authorize("scheduler_extension:scheduler_stats:get_pools")
    detail = bool(validation.bool_arg("detail"))
    volume_type = flask.request.args.get("volume_type") if volume.at_least("3.35") else None
    rows = services.pools(handler.runtime(), ctx, flask.request.args.get("name"), volume_type)
    for row in rows:
        caps = row["capabilities"]
        caps["timestamp"] = views.isotime(caps["timestamp"])
        caps["updated"] = views.isotime(caps["updated"])
    return {"pools": rows if detail else [{"name": row["name"]} for row in rows]}


@route("/messages", ["GET"])
def list_messages():
    """User messages (3.3): this service reports failures in the resources' statuses and
    the agents' logs, and keeps no message records."""
    volume.require("3.3")
    volume.authorize("volume:get_all")
    return {"messages": []}


@route("/messages/<message_id>", ["GET"])
def show_message(message_id: str):
    volume.require("3.3")
    volume.authorize("volume:get")
    raise exceptions.NotFound(f"Message {message_id} could not be found.")


@route("/resource_filters", ["GET"])
def list_resource_filters():
    """The filters each list accepts (3.33)."""
    volume.require("3.33")
    volume.authorize("volume:get_all")
    wanted = flask.request.args.get("resource")
    result = [{"resource": name, "filters": filters}
              for name, filters in sorted(services.resource_filters().items())
              if wanted in (None, name)]
    return {"resource_filters": result}
