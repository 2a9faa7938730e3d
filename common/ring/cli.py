"""`stratus-manage ring ...` (placeholder until the ring lands)."""

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cmd", nargs="*")


def main(args: argparse.Namespace) -> int:
    print("ring commands are not available yet")
    return 1
