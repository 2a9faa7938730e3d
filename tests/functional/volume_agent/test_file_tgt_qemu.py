"""The file driver and the tgt helper for real: tgtd serves the LUNs, QEMU's own iSCSI
initiator (libiscsi, as the guests use it) reads and writes them with CHAP."""

from __future__ import annotations

import json
import uuid

from agents.volume import imagecopy
from agents.volume.targets import Connector
from tests.functional.volume_agent.conftest import iscsi_url, qemu

GiB = 1024 ** 3
LOCAL = Connector("func-test", "127.0.0.1")


def _export(driver, targets, chap, volume_id, connector=LOCAL) -> dict:
    credentials = chap.credentials(volume_id)
    targets.ensure_export(volume_id, driver.local_path(volume_id), credentials, connector)
    return targets.connection_info(volume_id, credentials)


def _size(url: str) -> int:
    return json.loads(qemu(["qemu-img", "info", "--output=json", url]).stdout)["virtual-size"]


def _io(url: str, *commands: str, check: bool = True):
    argv = ["qemu-io", "-f", "raw"]
    for command in commands:
        argv += ["-c", command]
    result = qemu(argv + [url], check=check)
    if check:
        assert "Pattern verification failed" not in result.stdout, result.stdout
    return result


def test_lun_is_served_with_chap_and_acl(driver, targets, chap):
    volume_id = str(uuid.uuid4())
    driver.create_volume(volume_id, 1)
    info = _export(driver, targets, chap, volume_id)
    url = iscsi_url(info)
    assert _size(url) == GiB
    _io(url, "write -P 0x5a 1M 64k", "read -P 0x5a 1M 64k")
    with open(driver.local_path(volume_id), "rb") as data:  # it went to the backing file
        data.seek(1 << 20)
        assert data.read(65536) == b"\x5a" * 65536

    wrong = qemu(["qemu-img", "info", iscsi_url(info, password="Wrong" * 4)], check=False)
    assert wrong.returncode != 0 and "Authentication failure" in wrong.stderr
    anonymous = qemu(["qemu-img", "info", url.replace(url[8:url.index("@") + 1], "")],
                     check=False)
    assert anonymous.returncode != 0

    # Another volume's credentials do not open this one.
    other = str(uuid.uuid4())
    other_creds = chap.credentials(other)
    crossed = qemu(["qemu-img", "info", iscsi_url(info, other_creds.password,
                                                  other_creds.username)], check=False)
    assert crossed.returncode != 0

    # The access list: exported to another address only, 127.0.0.1 is turned away.
    targets.remove_connector(volume_id, LOCAL)
    _export(driver, targets, chap, volume_id, Connector("elsewhere", "192.0.2.250"))
    refused = qemu(["qemu-img", "info", url], check=False)
    assert refused.returncode != 0
    targets.remove_export(volume_id)
    assert qemu(["qemu-img", "info", url], check=False).returncode != 0
    assert targets.list_exports() == []


def test_snapshot_then_volume_from_snapshot_has_the_same_content(driver, targets, chap):
    source, snapshot, copy = (str(uuid.uuid4()) for _ in range(3))
    driver.create_volume(source, 1)
    source_url = iscsi_url(_export(driver, targets, chap, source))
    _io(source_url, "write -P 0xc3 0 1M", "write -P 0x3c 512M 128k")
    driver.create_snapshot(snapshot, source)
    _io(source_url, "write -P 0xff 0 1M")  # changes after the snapshot stay out of it
    driver.create_from_snapshot(copy, snapshot, 2)
    copy_url = iscsi_url(_export(driver, targets, chap, copy))
    assert _size(copy_url) == 2 * GiB
    _io(copy_url, "read -P 0xc3 0 1M", "read -P 0x3c 512M 128k", "read -P 0 1G 1M")
    _io(source_url, "read -P 0xff 0 1M")


def test_extend_is_seen_through_the_target(driver, targets, chap):
    volume_id = str(uuid.uuid4())
    driver.create_volume(volume_id, 1)
    url = iscsi_url(_export(driver, targets, chap, volume_id))
    _io(url, "write -P 0x11 0 64k")
    driver.extend_volume(volume_id, 3)
    targets.refresh(volume_id)
    assert _size(url) == 3 * GiB
    _io(url, "read -P 0x11 0 64k", "write -P 0x22 2G 64k", "read -P 0x22 2G 64k")


def test_image_to_volume_equals_qemu_img_convert(driver, targets, chap, workdir, guest_image,
                                                 guest_image_record, fetch_guest_image):
    volume_id = str(uuid.uuid4())
    scratch = str(workdir / "download")
    fmt = imagecopy.download(fetch_guest_image, guest_image_record, scratch)
    assert fmt == "qcow2"
    driver.create_from_image(volume_id, 1, scratch, fmt)
    reference = str(workdir / "reference.raw")
    qemu(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(guest_image), reference])
    # Through the LUN: the image's bytes, then zeros to the end of the volume.
    url = iscsi_url(_export(driver, targets, chap, volume_id))
    compare = qemu(["qemu-img", "compare", "-f", "raw", "-F", "raw", url, reference],
                   check=False)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert _size(url) == GiB


def test_volume_to_image_round_trip(driver, workdir, guest_image):
    volume_id = str(uuid.uuid4())
    driver.create_volume(volume_id, 1)
    qemu(["qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw", str(guest_image),
          driver.local_path(volume_id)])
    uploaded = workdir / "uploaded.qcow2"

    def upload(image_id, chunks):
        with open(uploaded, "wb") as out:
            for chunk in chunks:
                out.write(chunk)

    image = {"id": str(uuid.uuid4()), "disk_format": "qcow2"}
    imagecopy.upload_volume(upload, image, driver.local_path(volume_id),
                            lambda: driver.open_volume(volume_id), str(workdir / "conv"))
    info = json.loads(qemu(["qemu-img", "info", "--output=json", str(uploaded)]).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == GiB
    compare = qemu(["qemu-img", "compare", str(uploaded), str(guest_image)], check=False)
    assert compare.returncode == 0, compare.stdout
