"""A 10,000-object container listed with prefix/delimiter paging, all through the API."""

from __future__ import annotations

import concurrent.futures
import json

OWNER = "owner-token"
ACCOUNT = "/v1/AUTH_p1"
DIRS = 20
PER_DIR = 500  # 20 x 500 = 10,000 objects


def test_ten_thousand_objects_paged_by_prefix_and_delimiter(cluster):
    container = "ten-thousand"
    assert cluster.request("PUT", f"{ACCOUNT}/{container}", OWNER)[0] == 201
    names = [f"d{d:02d}/f{i:04d}" for d in range(DIRS) for i in range(PER_DIR)]

    def put(name):
        return cluster.request("PUT", f"{ACCOUNT}/{container}/{name}", OWNER, body=b"")[0]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(put, names))
    assert set(statuses) == {201}

    def page(**query):
        status, headers, body = cluster.request("GET", f"{ACCOUNT}/{container}", OWNER,
                                                query={"format": "json", **query})
        assert status == 200
        return headers, json.loads(body)

    headers, first = page()
    assert headers["x-container-object-count"] == "10000"
    assert len(first) == 10000 and [e["name"] for e in first] == sorted(names)
    # page through everything, 1,000 at a time, with markers
    seen, marker = [], ""
    while True:
        _, entries = page(limit="1000", marker=marker)
        if not entries:
            break
        seen += [e["name"] for e in entries]
        marker = entries[-1]["name"]
    assert seen == sorted(names)
    # the "directories" with a delimiter, then one directory paged in reverse
    _, dirs = page(delimiter="/")
    assert [e["subdir"] for e in dirs] == [f"d{d:02d}/" for d in range(DIRS)]
    _, dirs = page(delimiter="/", limit="5", marker="d04/")
    assert [e["subdir"] for e in dirs] == [f"d{d:02d}/" for d in range(5, 10)]
    seen, marker = [], ""
    while True:
        _, entries = page(prefix="d07/", delimiter="/", limit="128", marker=marker,
                          reverse="true")
        if not entries:
            break
        seen += [e["name"] for e in entries]
        marker = entries[-1]["name"]
    assert seen == sorted((n for n in names if n.startswith("d07/")), reverse=True)
    _, tail = page(prefix="d19/", end_marker="d19/f0010")
    assert [e["name"] for e in tail] == [f"d19/f{i:04d}" for i in range(10)]
