"""Backup and restore of real volume files: to a directory, and to the running
all-in-one object storage service (Swift v1 API, a token of its admin user).

The swift case skips when the all-in-one cloud is not there (no
/etc/stratus/admin-password or nothing on 127.0.0.1:8780). It uses its own container,
removed afterwards.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import requests

from agents.volume.backup import BackupService, MiB
from agents.volume.backup_stores import FileStore, SwiftStore

IDENTITY = os.environ.get("STRATUS_TEST_IDENTITY_URL", "http://127.0.0.1:8770/identity/v3")
OBJECT_PROXY = os.environ.get("STRATUS_TEST_OBJECT_URL", "http://127.0.0.1:8780")
ADMIN_PASSWORD_FILE = "/etc/stratus/admin-password"


def _fill(driver, volume_id: str) -> str:
    """A 1 GiB volume with data in a few places (most chunks stay zero)."""
    driver.create_volume(volume_id, 1)
    path = driver.local_path(volume_id)
    with open(path, "r+b") as data:
        for offset in (0, 5 * MiB + 17, 700 * MiB):
            data.seek(offset)
            data.write(os.urandom(3 * MiB))
        data.seek(1024 * MiB - 100)
        data.write(b"end-of-volume-marker")
    return path


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _round_trip(service: BackupService, driver) -> dict:
    source, restored = str(uuid.uuid4()), str(uuid.uuid4())
    source_path = _fill(driver, source)
    backup_id = str(uuid.uuid4())
    with driver.open_volume(source) as data:
        manifest = service.backup(backup_id, source, data, driver.volume_size(source))
    assert 3 <= manifest["object_count"] <= 6  # only the chunks holding data
    driver.create_volume(restored, 2)
    with open(driver.local_path(restored), "r+b") as dest:  # old data that must go
        dest.write(b"\xff" * MiB)
    with driver.open_volume(restored, writable=True) as dest:
        service.restore(backup_id, dest, driver.volume_size(restored))
    with open(driver.local_path(restored), "rb") as data:
        head = data.read(1024 * MiB)
    assert hashlib.sha256(head).hexdigest() == _sha256(source_path)
    assert os.stat(driver.local_path(restored)).st_blocks * 512 < 64 * MiB  # still sparse
    assert service.delete(backup_id) == manifest["object_count"] + 1
    assert service.store.list(f"backup-{backup_id}/") == []
    return manifest


def test_file_store_round_trip(driver, workdir):
    service = BackupService(FileStore(str(workdir / "backups")), 32 * MiB, "zlib")
    _round_trip(service, driver)
    assert os.listdir(workdir / "backups") == []


@pytest.fixture(scope="module")
def admin_token():
    """(token, account URL) of the all-in-one's admin, or skip."""
    try:
        with open(ADMIN_PASSWORD_FILE) as handle:
            password = handle.read().strip()
    except OSError:
        pytest.skip(f"no all-in-one cloud here ({ADMIN_PASSWORD_FILE} is missing)")
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    try:
        response = requests.post(f"{IDENTITY}/auth/tokens", json=body, timeout=30)
        requests.get(f"{OBJECT_PROXY}/info", timeout=10)
    except requests.RequestException as exc:
        pytest.skip(f"the all-in-one identity or object service does not answer: {exc}")
    assert response.status_code == 201, response.text
    project = response.json()["token"]["project"]["id"]
    return response.headers["X-Subject-Token"], f"{OBJECT_PROXY}/v1/AUTH_{project}"


def test_swift_store_round_trip(driver, admin_token):
    token, account = admin_token
    container = f"volumebackups-test-{uuid.uuid4().hex[:8]}"
    store = SwiftStore(lambda force_new: (token, account), container)
    service = BackupService(store, 16 * MiB, "zlib")
    try:
        _round_trip(service, driver)
        # A damaged object fails the restore: overwrite one chunk behind our back.
        volume_id, backup_id = str(uuid.uuid4()), str(uuid.uuid4())
        _fill(driver, volume_id)
        with driver.open_volume(volume_id) as data:
            manifest = service.backup(backup_id, volume_id, data, driver.volume_size(volume_id))
        victim = next(c["object"] for c in manifest["chunks"] if "object" in c)
        store.put(victim, b"not the chunk")
        restored = str(uuid.uuid4())
        driver.create_volume(restored, 1)
        with driver.open_volume(restored, writable=True) as dest, \
                pytest.raises(Exception, match="corrupt|sha256"):
            service.restore(backup_id, dest, driver.volume_size(restored))
        service.delete(backup_id)
    finally:
        headers = {"X-Auth-Token": token}
        listing = requests.get(f"{account}/{container}?format=json", headers=headers,
                               timeout=30)
        for entry in listing.json() if listing.status_code == 200 else []:
            requests.delete(f"{account}/{container}/{entry['name']}", headers=headers,
                            timeout=30)
        requests.delete(f"{account}/{container}", headers=headers, timeout=30)
