"""Consoles: os-getConsoleOutput, the legacy os-getVNCConsole / os-getSerialConsole
actions (below 2.6) and POST /servers/{id}/remote-consoles (2.6+)."""

from __future__ import annotations

from controller import exceptions
from controller.api import compute, handler, validation
from controller.api.compute import bp, server_access
from controller.api.compute.schemas import servers as schemas
from controller.api.compute.server_actions import action
from controller.compute import consoles

# (protocol, type) pairs this cloud serves -> the console type the agent knows.
_REMOTE = {("vnc", "novnc"): "novnc", ("serial", "serial"): "serial"}


@action("os-getConsoleOutput", "os_compute_api:os-console-output")
def _console_output(ctx, instance, body):
    args = validation.validate(schemas.CONSOLE_OUTPUT, body)["os-getConsoleOutput"] or {}
    length = args.get("length")
    length = None if length is None or int(length) < 0 else int(length)
    output = consoles.output(handler.runtime(), ctx, instance, length)
    return {"output": output}


@action("os-getVNCConsole", "os_compute_api:os-remote-consoles", max_version="2.6")
def _vnc_console(ctx, instance, body):
    kind = validation.validate(schemas.VNC_CONSOLE, body)["os-getVNCConsole"]["type"]
    if kind != "novnc":
        raise exceptions.BadRequest(f"Unavailable console type {kind}.")
    url = consoles.url(handler.runtime(), ctx, instance, "novnc")
    return {"console": {"type": kind, "url": url}}


@action("os-getSerialConsole", "os_compute_api:os-remote-consoles", max_version="2.6")
def _serial_console(ctx, instance, body):
    kind = validation.validate(schemas.SERIAL_CONSOLE, body)["os-getSerialConsole"]["type"]
    url = consoles.url(handler.runtime(), ctx, instance, "serial")
    return {"console": {"type": kind, "url": url}}


@action("os-getSPICEConsole", "os_compute_api:os-remote-consoles", max_version="2.6")
def _spice_console(ctx, instance, body):
    raise exceptions.BadRequest("Unavailable console type spice-html5.")


@action("os-getRDPConsole", "os_compute_api:os-remote-consoles", max_version="2.6")
def _rdp_console(ctx, instance, body):
    raise exceptions.BadRequest("Unavailable console type rdp-html5.")


@bp.post("/v2.1/servers/<server_id>/remote-consoles")
def create_remote_console(server_id: str):
    if not compute.at_least("2.6"):
        raise exceptions.NotFound("The resource could not be found.")
    ctx, instance = server_access.load("os_compute_api:os-remote-consoles", server_id)
    args = validation.body(schemas.REMOTE_CONSOLE)["remote_console"]
    console_type = _REMOTE.get((args["protocol"], args["type"]))
    if console_type is None:
        raise exceptions.BadRequest(f"Unavailable console type {args['type']}.")
    url = consoles.url(handler.runtime(), ctx, instance, console_type)
    return {"remote_console": {"protocol": args["protocol"], "type": args["type"],
                               "url": url}}
