"""Glance's JSON-patch dialect: parsing, the checks, and how changes apply."""

from __future__ import annotations

import pytest

from controller import conf as controller_conf
from controller import exceptions
from controller.image import patch


@pytest.fixture(scope="module")
def conf():
    return controller_conf.make(None)


def _image(**extra: str) -> patch.EditableImage:
    base = {name: None for name in patch.WRITABLE}
    base.update(name="cirros", visibility="shared", protected=False, tags=[], min_ram=0)
    return patch.EditableImage(base=base, extra=dict(extra))


@pytest.mark.parametrize("pointer,parts", [
    ("/name", ("name",)),
    ("/a~1b", ("a/b",)),
    ("/a~0b", ("a~b",)),
    ("/locations/0", ("locations", "0")),
])
def test_pointer_decoding(pointer, parts):
    assert patch.decode_pointer(pointer) == parts


@pytest.mark.parametrize("pointer", ["name", "/a//b", "/x/", "/", "/a~2", "/a~", 7, None])
def test_malformed_pointers_are_bad_requests(pointer):
    with pytest.raises(exceptions.BadRequest):
        patch.decode_pointer(pointer)


def test_media_type_selects_the_draft():
    assert patch.media_draft("application/openstack-images-v2.1-json-patch") == 10
    assert patch.media_draft("application/openstack-images-v2.0-json-patch; x=1") == 4
    with pytest.raises(exceptions.UnsupportedMediaType) as info:
        patch.media_draft("application/json")
    assert "application/openstack-images-v2.1-json-patch" in info.value.headers["Accept-Patch"]


def test_parse_v21(conf):
    changes = patch.parse(conf, [{"op": "replace", "path": "/name", "value": "x"},
                                 {"op": "remove", "path": "/k"}], 10)
    assert changes == [patch.Change("replace", ("name",), "x"),
                       patch.Change("remove", ("k",))]


def test_parse_v20_format(conf):
    [change] = patch.parse(conf, [{"add": "/k", "value": "v"}], 4)
    assert (change.op, change.name, change.value, change.draft) == ("add", "k", "v", 4)


@pytest.mark.parametrize("body,error", [
    ({"op": "add"}, exceptions.BadRequest),                       # not a list
    ([1], exceptions.BadRequest),                                 # not objects
    ([{"path": "/name", "value": 1}], exceptions.BadRequest),     # no op
    ([{"op": "move", "path": "/a"}], exceptions.BadRequest),      # unsupported op
    ([{"op": "add", "value": 1}], exceptions.BadRequest),         # no path
    ([{"op": "add", "path": "/name"}], exceptions.BadRequest),    # no value
    ([{"op": "add", "path": "/tags/0", "value": "x"}], exceptions.BadRequest),  # depth
    ([{"op": "replace", "path": "/min_ram", "value": "big"}], exceptions.BadRequest),
    ([{"op": "replace", "path": "/min_ram", "value": -1}], exceptions.BadRequest),
    ([{"op": "replace", "path": "/disk_format", "value": "floppy"}], exceptions.BadRequest),
    ([{"op": "add", "path": "/custom", "value": 5}], exceptions.BadRequest),  # not string
    ([{"op": "add", "path": "/" + "k" * 256, "value": "v"}], exceptions.BadRequest),
    ([{"op": "replace", "path": "/status", "value": "active"}], exceptions.Forbidden),
    ([{"op": "replace", "path": "/checksum", "value": "x"}], exceptions.Forbidden),
    ([{"op": "remove", "path": "/os_hash_value"}], exceptions.Forbidden),
    ([{"op": "add", "path": "/deleted", "value": "x"}], exceptions.Forbidden),
    ([{"op": "add", "path": "/os_glance_import_task", "value": "x"}], exceptions.Forbidden),
])
def test_parse_rejects(conf, body, error):
    with pytest.raises(error):
        patch.parse(conf, body, 10)


def test_add_overwrites_in_v21_and_conflicts_in_v20():
    image = _image(k="old")
    patch.apply(image, [patch.Change("add", ("k",), "new")])
    assert image.extra["k"] == "new"
    patch.apply(image, [patch.Change("add", ("name",), "renamed")])
    assert image.base["name"] == "renamed"
    with pytest.raises(exceptions.Conflict):
        patch.apply(image, [patch.Change("add", ("k",), "again", draft=4)])


def test_replace_and_remove_need_an_existing_property():
    image = _image()
    with pytest.raises(exceptions.Conflict):
        patch.apply(image, [patch.Change("replace", ("missing",), "v")])
    with pytest.raises(exceptions.Conflict):
        patch.apply(image, [patch.Change("remove", ("missing",))])


def test_base_properties_cannot_be_removed():
    with pytest.raises(exceptions.Forbidden):
        patch.apply(_image(), [patch.Change("remove", ("name",))])


def test_changes_apply_in_order():
    image = _image()
    patch.apply(image, [patch.Change("add", ("k",), "1"), patch.Change("replace", ("k",), "2"),
                        patch.Change("add", ("j",), "3"), patch.Change("remove", ("k",))])
    assert image.extra == {"j": "3"}


def test_locations_are_refused():
    with pytest.raises(exceptions.Forbidden):
        patch.apply(_image(), [patch.Change("add", ("locations", "-"), {"url": "x"})])
