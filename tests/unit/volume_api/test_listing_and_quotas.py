"""List helpers (paging, time filters) and the quota messages clients show."""

from __future__ import annotations

import pytest

from controller import exceptions
from controller import quotas as quota_engine
from controller.api.volume import schemas
from controller.volume import listing, quotas


def test_page_marker_offset_limit():
    rows = list("abcdef")
    assert listing.page(rows, listing.Query(limit=2), str) == (["a", "b"], True)
    assert listing.page(rows, listing.Query(limit=2, marker="b"), str) == (["c", "d"], True)
    assert listing.page(rows, listing.Query(marker="d", offset=1), str) == (["f"], False)
    with pytest.raises(exceptions.BadRequest, match="Marker zz could not be found"):
        listing.page(rows, listing.Query(marker="zz"), str)


def test_metadata_filter():
    assert listing.metadata_matches({"a": "1", "b": "2"}, {"a": 1})
    assert not listing.metadata_matches({"a": "1"}, {"a": "2"})
    with pytest.raises(exceptions.BadRequest):
        listing.metadata_matches({}, ["a"])


@pytest.mark.parametrize(("resource", "message"), [
    ("gigabytes", "Requested volume or snapshot exceeds allowed gigabytes quota. Requested "
                  "5G, quota is 10G and 8G has been consumed."),
    ("volumes", "Maximum number of volumes allowed (10) exceeded for quota 'volumes'."),
    ("snapshots_gold", "Maximum number of snapshots allowed (10) exceeded for quota "
                       "'snapshots_gold'."),
    ("backup_gigabytes", "Requested backup exceeds allowed Backup gigabytes quota. "
                         "Requested 5G, quota is 10G and 8G has been consumed."),
])
def test_quota_messages_are_cinders(resource, message):
    assert quotas._message(quota_engine.Excess(resource, 5, 8, 10)) == message


def test_per_type_requests():
    assert quotas.for_volume("gold", 3) == {"volumes": 1, "volumes_gold": 1, "gigabytes": 3,
                                            "gigabytes_gold": 3}
    assert quotas.for_snapshot(None, 2) == {"snapshots": 1, "gigabytes": 2}


@pytest.mark.parametrize(("value", "result"), [(True, True), ("true", True), ("1", True),
                                               ("False", False), ("off", False)])
def test_truthy(value, result):
    assert schemas.truthy(value) is result
