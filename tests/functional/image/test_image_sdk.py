"""openstacksdk against a real stratus-api, and the memory bound of big transfers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MIB = 1024 * 1024


def _sha512_file(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def _peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size (VmHWM) so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


def test_sdk_create_and_download(stratus_cloud, tmp_path):
    conn = stratus_cloud.sdk("demo")
    body = os.urandom(3 * MIB + 17)
    source = tmp_path / "sdk.raw"
    source.write_bytes(body)
    image = conn.image.create_image("sdk-image", filename=str(source), disk_format="raw",
                                    container_format="bare", validate_checksum=True,
                                    allow_duplicates=True)
    try:
        image = conn.image.get_image(image.id)
        assert image.status == "active"
        assert image.hash_algo == "sha512"
        assert image.hash_value == hashlib.sha512(body).hexdigest()
        assert image.virtual_size == len(body)
        target = tmp_path / "sdk.out"
        conn.image.download_image(image, output=str(target))
        assert _sha512_file(target) == hashlib.sha512(body).hexdigest()
        streamed = conn.image.download_image(image, stream=True)
        assert b"".join(streamed.iter_content(64 * 1024)) == body
    finally:
        conn.image.delete_image(image.id)


def test_200_mib_round_trip_keeps_server_memory_flat(stratus_cloud, tmp_path):
    """Upload and download 200 MiB through the CLI; no API process may grow by 10 MiB or more."""
    size = 200 * MIB
    source = tmp_path / "big.raw"
    digest = hashlib.sha512()
    with open(source, "wb") as out:
        for _ in range(size // (4 * MIB)):
            block = os.urandom(4 * MIB)
            digest.update(block)
            out.write(block)
    # Warm every worker up first, so the baseline includes imports and caches.
    for _ in range(6):
        stratus_cloud.openstack("image", "list")
    pids = stratus_cloud.api_pids()
    before = {pid: _peak_rss_kib(pid) for pid in pids}

    image = stratus_cloud.openstack("image", "create", "--file", str(source),
                                    "--disk-format", "raw", "--container-format", "bare",
                                    "big-image")
    try:
        assert image["size"] == size
        target = tmp_path / "big.out"
        stratus_cloud.openstack("image", "save", "--file", str(target), image["id"],
                                json_out=False)
        assert _sha512_file(target) == digest.hexdigest()
        growth = {pid: _peak_rss_kib(pid) - before[pid] for pid in pids}
        report = ", ".join(f"pid {pid}: {before[pid] // 1024} MiB -> +{kib / 1024:.1f} MiB"
                           for pid, kib in growth.items())
        print(f"\nAPI peak RSS around a 200 MiB upload+download: {report}")
        (stratus_cloud.root / "rss-report.txt").write_text(report + "\n")
        assert max(growth.values()) < 10 * 1024, report
    finally:
        stratus_cloud.openstack("image", "delete", image["id"], json_out=False)


def test_sdk_follows_next_links(stratus_cloud):
    """More images than one default page (25): the SDK must page with Glance's links."""
    conn = stratus_cloud.sdk("demo")
    made = [conn.image.create_image(f"page-{index}", tags=["paging"], disk_format="raw",
                                    container_format="bare", allow_duplicates=True).id
            for index in range(30)]
    try:
        listed = [image.id for image in conn.image.images(tag="paging")]
        assert sorted(listed) == sorted(made)
        names = [image.name for image in conn.image.images(tag="paging", sort="name:asc")]
        assert names == sorted(names)
    finally:
        for image_id in made:
            conn.image.delete_image(image_id)
