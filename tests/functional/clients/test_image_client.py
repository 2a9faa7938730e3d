"""The service user and the image client against a real stratus-api (subprocess):

- ``stratus-manage bootstrap --service-password`` creates user stratus in project
  service with roles admin and service, and running it again changes nothing;
- as that user, ``ImageClient`` streams down a project's private image and uploads a
  snapshot's data (chunked) into another project's queued image, which its owner then
  downloads intact;
- failures arrive as ServiceError with the API's status and message.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from common import conf as common_conf
from common.clients.errors import ServiceError
from common.clients.identity import ServiceAuth
from common.clients.image import ImageClient
from tests.functional.image.stratus_cloud import StratusCloud

SERVICE_PASSWORD = "service-secret"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    stratus = StratusCloud(tmp_path_factory.mktemp("stratus-clients"))
    try:
        stratus.start()
        for _ in range(2):  # idempotent
            stratus.manage("bootstrap", "--admin-password", "pw", "--demo-password", "demo",
                           "--public-url", stratus.url, "--service-password",
                           SERVICE_PASSWORD)
        yield stratus
    finally:
        stratus.stop()


@pytest.fixture(scope="module")
def images(cloud):
    conf = common_conf.build([], None, "test", {"service_auth": {
        "auth_url": f"{cloud.url}/identity/v3", "password": SERVICE_PASSWORD},
        "image_client": {"chunk_size": 65536}})
    return ImageClient(conf, ServiceAuth(conf))


def test_service_user_roles(cloud):
    rows = cloud.openstack("role", "assignment", "list", "--user", "stratus", "--project",
                           "service", "--names")
    assert sorted(row["Role"] for row in rows) == ["admin", "service"]
    assert len(cloud.openstack("user", "list", "--project", "service")) == 1


def test_download_and_upload_across_projects(cloud, images, tmp_path):
    demo = cloud.sdk("demo")
    data = os.urandom(300_000)
    source = tmp_path / "private.raw"
    source.write_bytes(data)
    private = demo.image.create_image("private", filename=str(source), disk_format="raw",
                                      container_format="bare", visibility="private")
    chunks = list(images.download(private.id))
    assert b"".join(chunks) == data and max(len(c) for c in chunks) <= 65536

    snapshot = demo.image.create_image("snap", disk_format="qcow2", container_format="bare")
    assert snapshot.status == "queued"
    payload = [os.urandom(70_000) for _ in range(4)]
    images.upload(snapshot.id, iter(payload))
    stored = demo.image.get_image(snapshot.id)
    assert stored.status == "active" and stored.size == 280_000
    assert stored.checksum == hashlib.md5(b"".join(payload), usedforsecurity=False).hexdigest()
    assert b"".join(images.download(snapshot.id)) == b"".join(payload)

    with pytest.raises(ServiceError) as error:  # data is immutable once uploaded
        images.upload(snapshot.id, iter([b"again"]))
    assert error.value.status == 409


def test_errors_carry_status_and_message(cloud, images):
    missing = "6f0c2b1a-0000-4000-8000-000000000000"
    with pytest.raises(ServiceError) as error:
        images.download(missing)
    assert error.value.status == 404 and missing in error.value.message
    conf = common_conf.build([], None, "test", {"service_auth": {
        "auth_url": f"{cloud.url}/identity/v3", "password": "wrong"}})
    with pytest.raises(ServiceError) as error:
        ImageClient(conf, ServiceAuth(conf)).download(missing)
    assert error.value.status == 401
