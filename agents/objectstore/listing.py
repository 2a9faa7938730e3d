"""Listing queries with Swift's prefix / delimiter / marker / end_marker / reverse.

With a delimiter, names that continue past the prefix with the delimiter fold into
one ``subdir`` entry, and the query jumps past the whole "directory" instead of
reading every name in it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

MAX_LIMIT = 10000


def _after(name: str) -> str:
    """The smallest string greater than every string starting with name."""
    return name[:-1] + chr(ord(name[-1]) + 1)


def list_items(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], *,
               limit: int = MAX_LIMIT, marker: str = "", end_marker: str = "",
               prefix: str = "", delimiter: str = "", reverse: bool = False,
               ) -> list[tuple[Any, ...] | str]:
    """Rows (tuples, name first) and subdir names (str), in listing order."""
    results: list[tuple[Any, ...] | str] = []
    orig_marker = marker
    force_gte = False
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE deleted = 0"
    while len(results) < limit:
        clauses, args = [], []
        if reverse:
            if marker:
                clauses.append("name < ?")
                args.append(marker)
            if end_marker:
                clauses.append("name > ?")
                args.append(end_marker)
        else:
            if marker:
                clauses.append("name >= ?" if force_gte else "name > ?")
                args.append(marker)
            if end_marker:
                clauses.append("name < ?")
                args.append(end_marker)
        if prefix:
            clauses.append("name >= ?")
            args.append(prefix)
            clauses.append("name < ?")
            args.append(_after(prefix))
        sql = select + "".join(" AND " + c for c in clauses)
        sql += " ORDER BY name DESC" if reverse else " ORDER BY name"
        want = limit - len(results)
        sql += " LIMIT ?"
        args.append(want)
        rows = conn.execute(sql, args).fetchall()
        if not rows:
            break
        jumped = False
        for row in rows:
            name = row[0]
            if delimiter:
                end = name.find(delimiter, len(prefix))
                if end >= 0:
                    dir_name = name[:end + len(delimiter)]
                    if dir_name != orig_marker:
                        results.append(dir_name)
                    if reverse:
                        marker = dir_name
                    else:
                        marker = name[:end] + chr(ord(delimiter) + 1)
                        force_gte = True
                    jumped = True
                    break
            results.append(row)
            if len(results) >= limit:
                break
        if not jumped:
            if len(rows) < want:
                break
            marker = rows[-1][0]
            force_gte = False
    return results[:limit]
