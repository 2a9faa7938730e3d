"""Options of a storage node and its daemons (one module per option group).

Every daemon of a node reads the same file (e.g. /etc/stratus/object-server-1.conf),
so the replicator, auditor, updater and expirer find their devices the same way the
server does.
"""

from __future__ import annotations

from oslo_config import cfg

import common.conf
from agents.objectstore.conf import auditor, expirer, replicator, server, updater
from common.ring import conf as ring_conf

GROUPS = [server, replicator, auditor, updater, expirer]


def register_all(conf: cfg.ConfigOpts) -> None:
    """Register the shared groups, [ring] and every node group on conf."""
    common.conf.register(conf)
    ring_conf.register(conf)
    for module in GROUPS:
        module.register(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Every option a storage node reads (for the generated sample config)."""
    result = list(common.conf.list_opts()) + ring_conf.list_opts()
    for module in GROUPS:
        result.extend(module.list_opts())
    return result


def make(argv: list[str] | None, program: str,
         cli_opts: list[cfg.Opt] | None = None) -> cfg.ConfigOpts:
    """A parsed ConfigOpts for program (argv None: defaults only, for tests)."""
    return common.conf.build([ring_conf.register] + [m.register for m in GROUPS], argv,
                             program, cli_opts=cli_opts)
