"""Controller option groups, and the option lists each daemon's sample config holds."""

from __future__ import annotations

from oslo_config import cfg

import common.conf
from controller.conf import (
    api,
    compute,
    conductor,
    console,
    database,
    identity,
    image,
    network,
    scheduler,
    services,
    volume,
)

GROUPS = [api, compute, conductor, console, database, identity, image, network, scheduler,
          services, volume]


def register_all(conf: cfg.ConfigOpts) -> None:
    """Register every option a controller daemon may read."""
    common.conf.register(conf)
    for module in GROUPS:
        module.register(conf)


def _opts(*modules) -> list[tuple[str | None, list[cfg.Opt]]]:
    result = list(common.conf.list_opts())
    for module in modules:
        result.extend(module.list_opts())
    return result


def list_api_opts():
    return _opts(api, compute, database, identity, image, network, volume)


def list_scheduler_opts():
    return _opts(database, scheduler, services)


def list_conductor_opts():
    return _opts(conductor, database, scheduler, services, network, volume)


def list_console_proxy_opts():
    return _opts(console, database)


def make(argv: list[str] | None = None, program: str = "stratus",
         overrides: dict[str, dict] | None = None) -> cfg.ConfigOpts:
    """A fresh, parsed ConfigOpts; overrides ({group: {name: value}}) win over files."""
    return common.conf.build([module.register for module in GROUPS], argv, program, overrides)
