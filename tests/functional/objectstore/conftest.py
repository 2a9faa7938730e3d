"""Fixtures: real object-storage clusters (proxy + 4 nodes) on loopback ports."""

from __future__ import annotations

import pytest

from tests.functional.objectstore.cluster import Cluster

TOKENS = {
    # token: (project, roles, user)
    "owner-token": ("p1", ["member"], "alice"),
    "other-token": ("p2", ["member"], "bob"),
    "reader-token": ("p1", ["reader"], "carol"),
    "admin-token": ("adminproject", ["admin"], "root"),
}


def _make(root: str, **kwargs) -> Cluster:
    cluster = Cluster(root, **kwargs)
    for token, (project, roles, user) in TOKENS.items():
        cluster.identity.add(token, project, roles, user=user, project_name=project + "-name")
    return cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster shared by a module's (non-destructive) tests."""
    c = _make(str(tmp_path_factory.mktemp("objstore")))
    try:
        yield c.start()
    finally:
        c.stop_all()


@pytest.fixture
def fresh_cluster(tmp_path):
    """A cluster of its own, for tests that break disks and servers."""
    c = _make(str(tmp_path))
    try:
        yield c.start()
    finally:
        c.stop_all()
