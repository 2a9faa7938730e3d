"""Finding host processes by their command line, for tests that check what was left."""

from __future__ import annotations

import glob


def pids(*needles: str) -> list[int]:
    """PIDs of the processes whose command line contains every one of needles."""
    wanted = [needle.encode() for needle in needles]
    found = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue  # gone meanwhile
        if all(needle in cmdline for needle in wanted):
            found.append(int(path.split("/")[2]))
    return found
