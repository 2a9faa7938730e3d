"""``stratus-manage ring ...``: build the account, container and object rings.

    stratus-manage ring create <builder> <part_power> <replicas> <min_part_hours>
    stratus-manage ring add <builder> r<region>z<zone>-<ip>:<port>/<device> <weight>
    stratus-manage ring rebalance <builder> [--seed N]
    stratus-manage ring show <builder>
    stratus-manage ring set-weight <builder> <search> <weight>
    stratus-manage ring remove <builder> <search>
    stratus-manage ring write <builder>

The builder is JSON (e.g. /etc/stratus/rings/object.builder); ``rebalance`` and
``write`` produce the ring next to it (object.ring.gz), which the proxy and the
storage nodes reload when it changes. ``<search>`` is ``d<id>``, a device name,
``ip:port`` or ``ip:port/device``.
"""

from __future__ import annotations

import argparse
import os
import sys

from common.ring.builder import BuilderError, RingBuilder, parse_device
from common.ring.serialization import RingFileError, read_builder, write_builder, write_ring


def ring_path(builder_path: str) -> str:
    """object.builder -> object.ring.gz (same directory)."""
    base = builder_path[:-len(".builder")] if builder_path.endswith(".builder") \
        else builder_path
    return base + ".ring.gz"


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ring subcommands to the `stratus-manage ring` parser."""
    sub = parser.add_subparsers(dest="ring_cmd", required=True)
    create = sub.add_parser("create", help="start a new builder file")
    create.add_argument("builder")
    create.add_argument("part_power", type=int, help="2**part_power partitions (e.g. 10)")
    create.add_argument("replicas", type=int, help="copies of everything (e.g. 3)")
    create.add_argument("min_part_hours", type=int,
                        help="hours before a partition may move again")
    add = sub.add_parser("add", help="add a device")
    add.add_argument("builder")
    add.add_argument("device", help="r<region>z<zone>-<ip>:<port>/<device>")
    add.add_argument("weight", type=float, help="relative capacity (e.g. disk size in GiB)")
    reb = sub.add_parser("rebalance", help="place partitions and write the ring file")
    reb.add_argument("builder")
    reb.add_argument("--seed", type=int, default=None,
                     help="random seed: the same seed gives the same placement")
    show = sub.add_parser("show", help="print devices and balance")
    show.add_argument("builder")
    weight = sub.add_parser("set-weight", help="change a device's weight")
    weight.add_argument("builder")
    weight.add_argument("search")
    weight.add_argument("weight", type=float)
    remove = sub.add_parser("remove", help="remove a device (rebalance afterwards)")
    remove.add_argument("builder")
    remove.add_argument("search")
    write = sub.add_parser("write", help="(re)write the ring file from the builder")
    write.add_argument("builder")


def _load(path: str) -> RingBuilder:
    return RingBuilder.from_dict(read_builder(path))


def _save(path: str, builder: RingBuilder) -> None:
    write_builder(path, builder.to_dict())


def _one(builder: RingBuilder, search: str) -> dict:
    found = builder.search(search)
    if len(found) != 1:
        raise BuilderError(f"{search!r} matches {len(found)} devices; need exactly one")
    return found[0]


def _show(path: str, builder: RingBuilder) -> None:
    devs = [d for d in builder.devs if d is not None]
    zones = {(d["region"], d["zone"]) for d in devs}
    print(f"{path}: {builder.parts} partitions, {builder.replicas} replicas, "
          f"{len({d['region'] for d in devs})} regions, {len(zones)} zones, "
          f"{len(devs)} devices, min_part_hours {builder.min_part_hours}, "
          f"version {builder.version}")
    if builder.rows is not None:
        print(f"balance {builder.balance():.2f}%, partitions below full zone "
              f"dispersion: {builder.dispersion()}"
              + (" (devices changed: rebalance pending)" if builder.dirty else ""))
    counts = builder.parts_per_dev()
    print(f"{'id':>4} {'region':>6} {'zone':>4} {'address':>22} {'device':>10} "
          f"{'weight':>8} {'parts':>7}")
    for dev in devs:
        print(f"{dev['id']:>4} {dev['region']:>6} {dev['zone']:>4} "
              f"{dev['ip'] + ':' + str(dev['port']):>22} {dev['device']:>10} "
              f"{dev['weight']:>8.2f} {counts.get(dev['id'], 0):>7}")


def main(args: argparse.Namespace) -> int:
    """Run one ring subcommand; return the exit status."""
    path = args.builder
    try:
        if args.ring_cmd == "create":
            if os.path.exists(path):
                raise BuilderError(f"{path} exists; remove it first to start over")
            builder = RingBuilder(args.part_power, args.replicas, args.min_part_hours)
            _save(path, builder)
            print(f"created {path}")
            return 0
        builder = _load(path)
        if args.ring_cmd == "add":
            dev_id = builder.add_dev(parse_device(args.device), args.weight)
            _save(path, builder)
            print(f"added device d{dev_id} {args.device} weight {args.weight}")
        elif args.ring_cmd == "rebalance":
            moved = builder.rebalance(seed=args.seed)
            _save(path, builder)
            write_ring(ring_path(path), builder.get_ring())
            print(f"reassigned {moved} replica slots; balance {builder.balance():.2f}%; "
                  f"wrote {ring_path(path)}")
        elif args.ring_cmd == "show":
            _show(path, builder)
        elif args.ring_cmd == "set-weight":
            dev = _one(builder, args.search)
            builder.set_weight(dev["id"], args.weight)
            _save(path, builder)
            print(f"d{dev['id']} weight {args.weight}; run rebalance to apply")
        elif args.ring_cmd == "remove":
            dev = _one(builder, args.search)
            builder.remove_dev(dev["id"])
            _save(path, builder)
            print(f"removed d{dev['id']}; run rebalance to apply")
        elif args.ring_cmd == "write":
            write_ring(ring_path(path), builder.get_ring())
            print(f"wrote {ring_path(path)}")
    except (BuilderError, RingFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
