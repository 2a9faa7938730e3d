"""The files of one object's hash directory: ``<timestamp>.data|.ts|.meta``.

Only the newest ``.data`` or ``.ts`` counts, plus the newest ``.meta`` if it is newer
than that ``.data``; everything else is obsolete. Timestamps are fixed-width, so
names sort by time.
"""

from __future__ import annotations

import contextlib
import os
import re

DATA = ".data"
TOMBSTONE = ".ts"
META = ".meta"
_FILE_RE = re.compile(r"^(\d{10}\.\d{5})(\.data|\.ts|\.meta)$")
_SUFFIX_RE = re.compile(r"^[0-9a-f]{3}$")
_HASH_RE = re.compile(r"^[0-9a-f]{32}$")


def is_suffix(name: str) -> bool:
    return bool(_SUFFIX_RE.match(name))


def is_hash(name: str) -> bool:
    return bool(_HASH_RE.match(name))


def parse(name: str) -> tuple[str, str] | None:
    """'1700000000.00000.data' -> ('1700000000.00000', '.data'); None if not ours."""
    match = _FILE_RE.match(name)
    return (match.group(1), match.group(2)) if match else None


def choose(names: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(newest data-or-tombstone, newest newer meta, obsolete files) of a hash dir."""
    parsed = sorted(((p, n) for n in names if (p := parse(n))), reverse=True)
    main = meta = None
    obsolete = []
    for (_ts, ext), name in parsed:
        if ext == META:
            if main is None and meta is None:
                meta = name
            else:
                obsolete.append(name)
        elif main is None:
            main = name
        else:
            obsolete.append(name)
    if meta is not None and (main is None or main.endswith(TOMBSTONE)):
        obsolete.append(meta)  # metadata of nothing, or of a deleted object
        meta = None
    return main, meta, obsolete


def cleanup(hash_dir: str, reclaim_age: float, now: float) -> list[str]:
    """Remove obsolete files (and tombstones past reclaim_age); return what is kept."""
    try:
        names = os.listdir(hash_dir)
    except (FileNotFoundError, NotADirectoryError):
        return []
    main, meta, obsolete = choose(names)
    if main is not None and main.endswith(TOMBSTONE) and \
            now - float(main[:16]) > reclaim_age:
        obsolete.append(main)
        main = None
    for name in obsolete:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(hash_dir, name))
    kept = sorted(n for n in (main, meta) if n)
    if not kept and not [n for n in names if n not in obsolete and not parse(n)]:
        with contextlib.suppress(OSError):
            os.rmdir(hash_dir)
    return kept
