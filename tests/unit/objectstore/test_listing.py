"""Listing queries: prefix, delimiter, markers, reverse and limits."""

from __future__ import annotations

import pytest

from agents.objectstore.containerdb import ContainerBroker

NAMES = ["a", "a/1", "a/2", "a/b/1", "b", "b/1", "c/", "c/x", "d-1", "d/1", "é"]


@pytest.fixture
def broker(tmp_path):
    broker = ContainerBroker(str(tmp_path / "c.db"))
    broker.create("AUTH_a", "c", "0000000001.00000")
    broker.merge_items([{"name": n, "created_at": "0000000002.00000", "size": 1,
                         "content_type": "t", "etag": "e"} for n in NAMES])
    broker.merge_items([{"name": "gone", "created_at": "0000000003.00000", "deleted": 1}])
    return broker


def names(broker, **query):
    return [e.get("name") or e.get("subdir") for e in broker.list_objects(**query)]


def test_plain_listing_skips_deleted_rows_in_byte_order(broker):
    assert names(broker) == NAMES


def test_prefix_and_delimiter(broker):
    assert names(broker, prefix="a/") == ["a/1", "a/2", "a/b/1"]
    assert names(broker, delimiter="/") == ["a", "a/", "b", "b/", "c/", "d-1", "d/", "é"]
    assert names(broker, prefix="a/", delimiter="/") == ["a/1", "a/2", "a/b/"]


def test_markers_limits_and_paging_with_delimiter(broker):
    assert names(broker, marker="b") == ["b/1", "c/", "c/x", "d-1", "d/1", "é"]
    assert names(broker, end_marker="b") == ["a", "a/1", "a/2", "a/b/1"]
    assert names(broker, delimiter="/", limit=3) == ["a", "a/", "b"]
    assert names(broker, delimiter="/", marker="a/", limit=3) == ["b", "b/", "c/"]


def test_reverse(broker):
    assert names(broker, reverse=True) == list(reversed(NAMES))
    assert names(broker, reverse=True, delimiter="/", limit=4) == ["é", "d/", "d-1", "c/"]
    assert names(broker, reverse=True, marker="b") == ["a/b/1", "a/2", "a/1", "a"]


def test_counts_follow_newest_rows(broker):
    info = broker.get_info()
    assert info["object_count"] == len(NAMES) and info["bytes_used"] == len(NAMES)
    broker.merge_items([{"name": "a", "created_at": "0000000001.50000", "deleted": 1}])
    assert broker.get_info()["object_count"] == len(NAMES)  # older delete loses
    broker.merge_items([{"name": "a", "created_at": "0000000009.00000", "deleted": 1}])
    assert broker.get_info()["object_count"] == len(NAMES) - 1


def test_rows_since_and_replica_hashes_converge(broker, tmp_path):
    other = ContainerBroker(str(tmp_path / "other.db"))
    other.create("AUTH_a", "c", "0000000001.00000")
    rows = broker.items_since(0, 1000)
    other.merge_items(rows, broker.get_info()["id"], rows[-1]["ROWID"])
    assert other.get_info()["hash"] == broker.get_info()["hash"]
    assert other.replication_info()["sync_points"][broker.get_info()["id"]] == \
        rows[-1]["ROWID"]
    assert names(other) == NAMES
