"""Replicas survive: a lost disk, a flipped byte, a stopped server."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import time

OWNER = "owner-token"
ACCOUNT = "/v1/AUTH_p1"


def _upload(cluster, container: str, count: int, seed: int = 1) -> dict[str, bytes]:
    rnd = random.Random(seed)
    bodies = {f"o{i:03d}": rnd.randbytes(rnd.choice([10, 5000, 100000])) for i in range(count)}
    assert cluster.request("PUT", f"{ACCOUNT}/{container}", OWNER)[0] == 201

    def put(name):
        return cluster.request("PUT", f"{ACCOUNT}/{container}/{name}", OWNER,
                               body=bodies[name])[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(put, bodies)) == {201}
    return bodies


def _copies(cluster, container: str, names) -> list[int]:
    return [len(cluster.object_files("AUTH_p1", container, n)) for n in names]


def _all_gets_ok(cluster, container: str, bodies: dict[str, bytes]) -> None:
    for name, body in bodies.items():
        status, _, data = cluster.request("GET", f"{ACCOUNT}/{container}/{name}", OWNER)
        assert status == 200 and data == body, name


def test_lost_disk_every_get_succeeds_and_replicator_restores(fresh_cluster, record_property):
    c = fresh_cluster
    bodies = _upload(c, "keep", 150)
    assert set(_copies(c, "keep", bodies)) == {3}
    c.wipe_disk(1)
    assert min(_copies(c, "keep", bodies)) == 2
    _all_gets_ok(c, "keep", bodies)
    started = time.monotonic()
    c.run_all("replicator")
    restore_seconds = time.monotonic() - started
    record_property("replicator_restore_seconds", round(restore_seconds, 2))
    print(f"\nreplicator restored 3 copies of {len(bodies)} objects in {restore_seconds:.2f}s")
    assert set(_copies(c, "keep", bodies)) == {3}
    # the wiped disk's container and account databases are back too
    assert os.listdir(os.path.join(c.disk(1)))
    _all_gets_ok(c, "keep", bodies)
    assert restore_seconds < 60


def test_flipped_byte_quarantined_never_served_then_restored(fresh_cluster):
    c = fresh_cluster
    bodies = _upload(c, "rot", 6)
    for name in ("o000", "o001", "o002"):
        victim = c.object_files("AUTH_p1", "rot", name)[0]
        data = bytearray(open(victim, "rb").read())
        data[len(data) // 3] ^= 0x01
        with open(victim, "wb") as handle:
            handle.write(data)
    for _ in range(6):  # reads hit every replica sooner or later: never corrupt
        _all_gets_ok(c, "rot", bodies)
    c.run_all("auditor")
    quarantined = [os.listdir(os.path.join(c.disk(n), "quarantined", "objects"))
                   for n in range(1, 5) if os.path.isdir(os.path.join(c.disk(n), "quarantined"))]
    assert sum(len(q) for q in quarantined) >= 1
    c.run_all("replicator")
    assert set(_copies(c, "rot", bodies)) == {3}
    c.run_all("auditor")  # the restored copies are good
    _all_gets_ok(c, "rot", bodies)


def test_stopped_server_quorum_handoff_then_convergence(fresh_cluster):
    c = fresh_cluster
    assert c.request("PUT", f"{ACCOUNT}/down", OWNER)[0] == 201
    c.stop("node2")
    bodies = {f"n{i:02d}": os.urandom(2000 + i) for i in range(30)}
    for name, body in bodies.items():
        assert c.request("PUT", f"{ACCOUNT}/down/{name}", OWNER, body=body)[0] == 201
    assert set(_copies(c, "down", bodies)) == {3}  # two primaries + a handoff
    _all_gets_ok(c, "down", bodies)
    c.start_node(2)
    c.run_all("replicator")
    c.run_all("replicator")
    c.run_all("updater")
    assert set(_copies(c, "down", bodies)) == {3}
    ring_primaries = _primary_disks(c, "down", bodies)
    for name, disks in ring_primaries.items():
        on = {n for n in range(1, 5) if any(p.startswith(c.disk(n) + "/")
                                           for p in c.object_files("AUTH_p1", "down", name))}
        assert on == disks, name  # handoff copies moved home
    status, _, listing = c.request("GET", f"{ACCOUNT}/down", OWNER, query={"format": "json"})
    assert [e["name"] for e in json.loads(listing)] == sorted(bodies)
    _all_gets_ok(c, "down", bodies)


def _primary_disks(c, container, names) -> dict[str, set[int]]:
    from common.ring import Ring
    from tests.functional.objectstore.cluster import HASH_SUFFIX

    ring = Ring(os.path.join(c.ring_dir, "object.ring.gz"), hash_suffix=HASH_SUFFIX)
    out = {}
    for name in names:
        _, nodes = ring.get_nodes("AUTH_p1", container, name)
        out[name] = {int(n["device"][4:]) for n in nodes}
    return out


def test_deferred_container_updates_drained_by_updater(fresh_cluster):
    c = fresh_cluster
    assert c.request("PUT", f"{ACCOUNT}/later", OWNER)[0] == 201
    c.stop("node3")  # its container replica misses the updates: they are deferred
    for i in range(10):
        assert c.request("PUT", f"{ACCOUNT}/later/x{i}", OWNER, body=b"d")[0] == 201
    pending = sum(len(files) for n in range(1, 5)
                  for _, _, files in os.walk(os.path.join(c.disk(n), "async_pending")))
    assert pending > 0
    c.start_node(3)
    c.run_all("updater")
    c.run_all("replicator")
    left = sum(len(files) for n in range(1, 5)
               for _, _, files in os.walk(os.path.join(c.disk(n), "async_pending")))
    assert left == 0 or left < pending
    status, _, listing = c.request("GET", f"{ACCOUNT}/later", OWNER)
    assert listing.decode().split() == [f"x{i}" for i in range(10)]
