"""Who sees and who changes which image: Glance's visibility rules, end to end in SQL."""

from __future__ import annotations

import pytest

from controller import exceptions
from controller.image import images, listing, members, patch


def _create(rt, ctx, name, visibility="shared"):
    return images.create(rt, ctx, {"name": name, "visibility": visibility,
                                   "disk_format": "raw", "container_format": "bare"}, {}, [])


def _listed(rt, ctx, **query):
    rows, _ = listing.list_(rt, ctx, listing.ListQuery(limit=100, **query))
    return sorted(row.name for row in rows)


@pytest.fixture
def world(rt, alice, bob):
    """alice owns one image of each visibility; bob owns one private image."""
    made = {v: _create(rt, alice, f"alice-{v}", v)
            for v in ("public", "private", "shared", "community")}
    made["bob"] = _create(rt, bob, "bob-private", "private")
    return made


def test_owner_sees_everything_it_owns(rt, world, alice):
    assert _listed(rt, alice) == ["alice-community", "alice-private", "alice-public",
                                  "alice-shared"]


def test_others_see_public_only_and_community_on_request(rt, world, bob):
    assert _listed(rt, bob) == ["alice-public", "bob-private"]
    assert _listed(rt, bob, visibility="community") == ["alice-community"]
    assert _listed(rt, bob, visibility="all") == ["alice-community", "alice-public",
                                                  "bob-private"]
    assert _listed(rt, bob, visibility="private") == ["bob-private"]


def test_invisible_images_are_missing_not_forbidden(rt, world, bob):
    for name in ("private", "shared"):
        with pytest.raises(exceptions.NotFound):
            images.get(rt, bob, world[name].id)
    assert images.get(rt, bob, world["community"].id).name == "alice-community"


def test_shared_image_appears_once_accepted(rt, world, alice, bob):
    shared = world["shared"].id
    members.create(rt, alice, shared, "bob")
    # Pending: visible by ID (so the member can answer), absent from the default list.
    assert images.get(rt, bob, shared).id == shared
    assert "alice-shared" not in _listed(rt, bob)
    assert "alice-shared" in _listed(rt, bob, member_status="pending")
    members.update(rt, bob, shared, "bob", "accepted")
    assert "alice-shared" in _listed(rt, bob)
    members.update(rt, bob, shared, "bob", "rejected")
    assert "alice-shared" not in _listed(rt, bob)
    assert "alice-shared" in _listed(rt, bob, member_status="all")


def test_membership_only_counts_while_shared(rt, world, alice, bob):
    shared = world["shared"].id
    members.create(rt, alice, shared, "bob")
    members.update(rt, bob, shared, "bob", "accepted")
    images.update(rt, alice, shared, [patch.Change("replace", ("visibility",), "private")])
    with pytest.raises(exceptions.NotFound):
        images.get(rt, bob, shared)


def test_only_the_owner_changes_an_image(rt, world, alice, bob, admin):
    rename = [patch.Change("replace", ("name",), "mine")]
    with pytest.raises(exceptions.Forbidden):
        images.update(rt, bob, world["public"].id, rename)
    with pytest.raises(exceptions.NotFound):
        images.update(rt, bob, world["private"].id, rename)
    with pytest.raises(exceptions.Forbidden):
        images.delete(rt, bob, world["public"].id)
    assert images.update(rt, admin, world["private"].id, rename).name == "mine"


def test_admin_sees_all_but_other_projects_community_images_on_request(rt, world, admin):
    assert _listed(rt, admin) == ["alice-private", "alice-public", "alice-shared",
                                  "bob-private"]
    assert "alice-community" in _listed(rt, admin, visibility="all")


def test_members_see_only_their_own_membership(rt, world, alice, bob):
    shared = world["shared"].id
    members.create(rt, alice, shared, "bob")
    members.create(rt, alice, shared, "carol")
    assert [m.member for m in members.list_(rt, bob, shared)] == ["bob"]
    assert sorted(m.member for m in members.list_(rt, alice, shared)) == ["bob", "carol"]
    with pytest.raises(exceptions.NotFound):
        members.get(rt, bob, shared, "carol")


def test_member_rules(rt, world, alice, bob):
    with pytest.raises(exceptions.Forbidden):  # only shared images have members
        members.create(rt, alice, world["public"].id, "bob")
    shared = world["shared"].id
    members.create(rt, alice, shared, "bob")
    with pytest.raises(exceptions.Conflict):
        members.create(rt, alice, shared, "bob")
    with pytest.raises(exceptions.Forbidden):  # the owner cannot answer for the member
        members.update(rt, alice, shared, "bob", "accepted")
    with pytest.raises(exceptions.BadRequest):
        members.update(rt, bob, shared, "bob", "maybe")
    with pytest.raises(exceptions.Forbidden):  # the member cannot remove itself
        members.delete(rt, bob, shared, "bob")
    members.delete(rt, alice, shared, "bob")
    with pytest.raises(exceptions.NotFound):
        images.get(rt, bob, shared)


def test_non_admin_cannot_create_for_another_owner(rt, alice):
    with pytest.raises(exceptions.Forbidden):
        images.create(rt, alice, {"owner": "bob"}, {}, [])
