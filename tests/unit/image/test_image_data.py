"""Upload and download: status transitions, size and hash verification, cleanup."""

from __future__ import annotations

import hashlib

import pytest

from controller import exceptions
from controller.image import data, images, states, store


def _queued(rt, ctx, **values):
    values = {"disk_format": "raw", "container_format": "bare", **values}
    return images.create(rt, ctx, values, {}, []).id


def _chunks(body: bytes, size: int = 1000):
    return (body[i:i + size] for i in range(0, len(body), size))


def _status(rt, ctx, image_id):
    return images.get(rt, ctx, image_id).status


BODY = bytes(range(256)) * 40


def test_upload_activates_with_hashes(rt, alice):
    image_id = _queued(rt, alice)
    image = data.upload(rt, alice, image_id, _chunks(BODY), data.Expected(size=len(BODY)))
    assert image.status == states.ACTIVE
    assert image.size == len(BODY) == image.virtual_size
    assert image.checksum == hashlib.md5(BODY).hexdigest()
    assert (image.os_hash_algo, image.os_hash_value) == ("sha512",
                                                         hashlib.sha512(BODY).hexdigest())
    _, chunks = data.download(rt, alice, image_id)
    assert b"".join(chunks) == BODY
    _, chunks = data.download(rt, alice, image_id, offset=10, length=5)
    assert b"".join(chunks) == BODY[10:15]


def test_declared_hashes_are_verified(rt, alice):
    image_id = _queued(rt, alice)
    good = data.Expected(checksum=hashlib.md5(BODY).hexdigest(),
                         os_hash_value=hashlib.sha512(BODY).hexdigest().upper())
    assert data.upload(rt, alice, image_id, _chunks(BODY), good).status == states.ACTIVE


@pytest.mark.parametrize("expected", [
    data.Expected(checksum="0" * 32),
    data.Expected(os_hash_value="0" * 128),
])
def test_hash_mismatch_kills_the_image_and_drops_the_data(rt, alice, expected):
    image_id = _queued(rt, alice)
    with pytest.raises(data.IntegrityFailure):
        data.upload(rt, alice, image_id, _chunks(BODY), expected)
    assert _status(rt, alice, image_id) == states.KILLED
    assert not store.get_store(rt.conf).exists(image_id)
    with pytest.raises(exceptions.Conflict):  # killed images take no more data
        data.upload(rt, alice, image_id, _chunks(BODY))


@pytest.mark.parametrize("declared", [len(BODY) - 1, len(BODY) + 1])
def test_size_mismatch_requeues(rt, alice, declared):
    image_id = _queued(rt, alice)
    with pytest.raises(exceptions.BadRequest):
        data.upload(rt, alice, image_id, _chunks(BODY), data.Expected(size=declared))
    assert _status(rt, alice, image_id) == states.QUEUED
    assert not store.get_store(rt.conf).exists(image_id)
    assert data.upload(rt, alice, image_id, _chunks(BODY)).status == states.ACTIVE


def test_too_large_is_refused_before_and_during_the_stream(rt, alice):
    image_id = _queued(rt, alice)
    cap = rt.conf.image.image_size_cap
    with pytest.raises(exceptions.RequestEntityTooLarge):
        data.upload(rt, alice, image_id, iter([]), data.Expected(size=cap + 1))
    endless = iter(lambda: b"x" * 65536, None)
    with pytest.raises(exceptions.RequestEntityTooLarge):
        data.upload(rt, alice, image_id, endless)
    assert _status(rt, alice, image_id) == states.QUEUED


def test_a_client_that_goes_away_leaves_the_image_queued(rt, alice):
    image_id = _queued(rt, alice)

    def broken():
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        data.upload(rt, alice, image_id, broken())
    assert _status(rt, alice, image_id) == states.QUEUED
    assert not store.get_store(rt.conf).exists(image_id)


def test_upload_needs_formats_ownership_and_a_queued_image(rt, alice, bob):
    bare = images.create(rt, alice, {"visibility": "public"}, {}, []).id
    with pytest.raises(exceptions.BadRequest):
        data.upload(rt, alice, bare, _chunks(BODY))
    image_id = _queued(rt, alice, visibility="public")
    with pytest.raises(exceptions.Forbidden):
        data.upload(rt, bob, image_id, _chunks(BODY))
    data.upload(rt, alice, image_id, _chunks(BODY))
    with pytest.raises(exceptions.Conflict):
        data.upload(rt, alice, image_id, _chunks(BODY))


def test_deleted_during_upload_is_gone_and_leaves_no_data(rt, alice):
    image_id = _queued(rt, alice)

    def deleting():
        yield BODY
        images.delete(rt, alice, image_id)

    with pytest.raises(data.ImageGone):
        data.upload(rt, alice, image_id, deleting())
    assert not store.get_store(rt.conf).exists(image_id)


def test_queued_image_has_nothing_to_download(rt, alice):
    image_id = _queued(rt, alice)
    assert data.download(rt, alice, image_id)[1] is None


def test_deactivated_data_is_for_admins_only(rt, alice, bob, admin):
    image_id = _queued(rt, alice, visibility="public")
    data.upload(rt, alice, image_id, _chunks(BODY))
    with pytest.raises(exceptions.Forbidden):  # deactivation needs an active image
        images.reactivate(rt, admin, _queued(rt, alice))
    images.deactivate(rt, admin, image_id)
    images.deactivate(rt, admin, image_id)  # a no-op, as in Glance
    with pytest.raises(exceptions.Forbidden):
        data.download(rt, bob, image_id)
    assert b"".join(data.download(rt, admin, image_id)[1]) == BODY
    images.reactivate(rt, admin, image_id)
    assert b"".join(data.download(rt, bob, image_id)[1]) == BODY


def test_delete_removes_data_and_respects_protection(rt, alice):
    image_id = _queued(rt, alice, protected=True)
    data.upload(rt, alice, image_id, _chunks(BODY))
    with pytest.raises(exceptions.Forbidden):
        images.delete(rt, alice, image_id)
    from controller.image import patch

    images.update(rt, alice, image_id, [patch.Change("replace", ("protected",), False)])
    images.delete(rt, alice, image_id)
    assert not store.get_store(rt.conf).exists(image_id)
    with pytest.raises(exceptions.NotFound):
        images.get(rt, alice, image_id)


def test_two_uploads_racing_for_one_image(rt, alice):
    image_id = _queued(rt, alice)
    outcome = {}

    def second_upload_inside_the_first():
        yield BODY
        try:
            data.upload(rt, alice, image_id, _chunks(b"other data"))
        except exceptions.Conflict as exc:
            outcome["second"] = exc

    image = data.upload(rt, alice, image_id, second_upload_inside_the_first())
    assert isinstance(outcome["second"], exceptions.Conflict)
    assert image.checksum == hashlib.md5(BODY).hexdigest()


def test_notifications(rt, alice, monkeypatch):
    events = []
    monkeypatch.setattr(rt, "notify", lambda ctx, event, payload: events.append(
        (event, payload["id"], payload["status"])))
    image_id = _queued(rt, alice)
    data.upload(rt, alice, image_id, _chunks(BODY))
    from controller.image import patch

    images.update(rt, alice, image_id, [patch.Change("add", ("k",), "v")])
    images.delete(rt, alice, image_id)
    assert [event for event, _, _ in events] == [
        "image.create", "image.upload", "image.activate", "image.update", "image.delete"]
    assert {ident for _, ident, _ in events} == {image_id}
    assert events[-1][2] == "deleted"
