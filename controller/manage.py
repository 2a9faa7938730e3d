"""stratus-manage: database, keys, bootstrap and service views for operators."""

from __future__ import annotations

import argparse
import json
import sys

from common import log
from controller import conf as controller_conf
from controller import services
from controller.db import migration
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.runtime import Runtime


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus-manage", description=__doc__)
    parser.add_argument("--config-file", action="append", default=None,
                        help="Config file (repeatable); default /etc/stratus/stratus.conf.")
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db", help="schema migrations").add_subparsers(dest="cmd", required=True)
    db.add_parser("sync", help="upgrade the schema to the newest revision")
    db.add_parser("version", help="print the schema revision")

    fernet = sub.add_parser("fernet", help="token keys").add_subparsers(dest="cmd", required=True)
    fernet.add_parser("setup", help="create the key repository")
    fernet.add_parser("rotate", help="promote the staged key and stage a new one")

    boot = sub.add_parser("bootstrap", help="create the admin, roles and catalog")
    boot.add_argument("--admin-password", required=True)
    boot.add_argument("--admin-user", default="admin")
    boot.add_argument("--admin-project", default="admin")
    boot.add_argument("--region", default="RegionOne")
    boot.add_argument("--public-url", default=None,
                      help="base URL of the API (default: [api] public_endpoint)")
    boot.add_argument("--demo-password", default=None,
                      help="also create project demo with user demo (member)")
    boot.add_argument("--service-password", default=None,
                      help="also create user stratus in project service (roles admin and "
                           "service): what daemons authenticate as ([service_auth])")
    boot.add_argument("--service", action="append", default=[], metavar="TYPE:NAME:URL",
                      help="extra catalog entry (repeatable)")

    ring = sub.add_parser("ring", help="object storage rings")
    _ring_cli().register(ring)

    svc = sub.add_parser("service", help="daemons").add_subparsers(dest="cmd", required=True)
    svc.add_parser("list", help="list daemons and whether they are up")
    return parser


def _ring_cli():
    from common.ring import cli

    return cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.group == "ring":
        return _ring_cli().main(args)
    conf_argv: list[str] = []
    for path in args.config_file or []:
        conf_argv += ["--config-file", path]
    conf = controller_conf.make(conf_argv, "stratus-manage")
    log.setup(conf, "stratus-manage")
    rt = Runtime.from_conf(conf)

    if args.group == "db" and args.cmd == "sync":
        migration.sync(rt.db)
        print(f"database at revision {migration.version(rt.db)}")
    elif args.group == "db":
        print(migration.version(rt.db) or "none")
    elif args.group == "fernet":
        keys = KeyRepository(conf.fernet_tokens.key_repository,
                             conf.fernet_tokens.max_active_keys)
        if args.cmd == "setup":
            created = keys.setup()
            print(f"{'created' if created else 'kept existing'} keys in {keys.path}")
        else:
            print(f"rotated; primary key is now {keys.rotate()}")
    elif args.group == "bootstrap":
        extra = []
        for item in args.service:
            service_type, name, url = item.split(":", 2)
            extra.append((service_type, name, url))
        result = bootstrap.run(rt, bootstrap.Options(
            admin_password=args.admin_password, admin_user=args.admin_user,
            admin_project=args.admin_project, region=args.region,
            public_url=args.public_url or conf.api.public_endpoint,
            demo_password=args.demo_password, service_password=args.service_password,
            extra_catalog=extra))
        print(json.dumps(result, indent=2))
    elif args.group == "service":
        for status in services.list_(rt):
            print(f"{status.id:4} {status.binary:24} {status.host:20} "
                  f"{'disabled' if status.disabled else 'enabled':8} "
                  f"{'up' if status.up else 'down':4} {status.updated_at}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
