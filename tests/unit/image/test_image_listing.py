"""Image-list filters, sorting and marker pagination at the service layer."""

from __future__ import annotations

import datetime

import pytest

from controller import exceptions
from controller.image import data, images, listing


@pytest.fixture
def catalog(rt, alice):
    made = []
    for index, (name, disk) in enumerate([("a", "raw"), ("b", "qcow2"), ("c", "qcow2"),
                                          ("d", "iso")]):
        image = images.create(rt, alice, {"name": name, "disk_format": disk,
                                          "container_format": "bare",
                                          "protected": index == 0},
                              {"os_distro": "debian" if index % 2 else "alpine"},
                              ["even"] if index % 2 == 0 else ["odd", "x"])
        data.upload(rt, alice, image.id, [b"x" * (index + 1) * 10])
        made.append(image)
    return made


def _names(rt, ctx, **query):
    rows, more = listing.list_(rt, ctx, listing.ListQuery(limit=query.pop("limit", 100),
                                                          **query))
    return [row.name for row in rows], more


def test_default_order_is_newest_first(rt, alice, catalog):
    assert _names(rt, alice)[0] == ["d", "c", "b", "a"]
    assert _names(rt, alice, sort=[("name", "asc")])[0] == ["a", "b", "c", "d"]
    assert _names(rt, alice, sort=[("disk_format", "asc"), ("name", "desc")])[0] == \
        ["d", "c", "b", "a"]


def test_filters(rt, alice, catalog):
    assert _names(rt, alice, columns={"disk_format": ["qcow2"]}, sort=[("name", "asc")])[0] \
        == ["b", "c"]
    assert _names(rt, alice, columns={"name": ["a", "d"]}, sort=[("name", "asc")])[0] == \
        ["a", "d"]
    assert _names(rt, alice, tags=["odd", "x"], sort=[("name", "asc")])[0] == ["b", "d"]
    assert _names(rt, alice, properties={"os_distro": "alpine"},
                  sort=[("name", "asc")])[0] == ["a", "c"]
    assert _names(rt, alice, size_min=20, size_max=30, sort=[("name", "asc")])[0] == \
        ["b", "c"]
    assert _names(rt, alice, protected=True)[0] == ["a"]
    future = datetime.datetime(2999, 1, 1)
    assert _names(rt, alice, times=[("created_at", "lt", future)])[0] != []
    assert _names(rt, alice, times=[("created_at", "gte", future)])[0] == []


def test_hidden_images_are_listed_only_on_request(rt, alice, catalog):
    from controller.image import patch

    images.update(rt, alice, catalog[0].id, [patch.Change("replace", ("os_hidden",), True)])
    assert "a" not in _names(rt, alice)[0]
    assert _names(rt, alice, os_hidden=True)[0] == ["a"]


def test_marker_pagination_walks_every_image_once(rt, alice, catalog):
    seen, marker = [], None
    while True:
        rows, more = listing.list_(rt, alice, listing.ListQuery(limit=3, marker=marker))
        seen += [row.name for row in rows]
        if not more:
            break
        marker = rows[-1].id
    assert seen == ["d", "c", "b", "a"]
    with pytest.raises(exceptions.BadRequest):
        listing.list_(rt, alice, listing.ListQuery(limit=3, marker="nope"))
