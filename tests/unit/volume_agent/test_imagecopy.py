"""Image downloads (verification, probing) and uploads, with recorded qemu-img."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from agents.volume import imagecopy
from agents.volume.exception import Cancelled, ImageError, ImageUnacceptable
from tests.unit.volume_agent.helpers import new_id

DATA = b"image-bytes" * 100


def _image(**overrides):
    image = {"id": new_id(), "disk_format": "qcow2", "os_hash_algo": "sha512",
             "os_hash_value": hashlib.sha512(DATA).hexdigest(), "size": len(DATA)}
    image.update(overrides)
    return image


def _info(**fields):
    def execute(argv, **kwargs):
        assert argv[:3] == ["qemu-img", "info", "--output=json"]
        assert "-f" not in argv  # probing is the point
        return json.dumps({"format": "qcow2", "virtual-size": 1 << 30, **fields})
    return execute


def _fetch(chunks=(DATA[:500], DATA[500:])):
    return lambda image_id: iter(chunks)


def test_good_download_is_kept(tmp_path):
    dest = tmp_path / "img"
    assert imagecopy.download(_fetch(), _image(), str(dest), execute=_info()) == "qcow2"
    assert dest.read_bytes() == DATA


@pytest.mark.parametrize("image, execute, match", [
    (_image(os_hash_value="0" * 128), _info(), "corrupt"),
    (_image(size=5), _info(), "cut short"),
    (_image(), _info(format="raw"), "declared qcow2 but its data is raw"),
    (_image(), _info(**{"backing-filename": "/etc/shadow"}), "refers to another file"),
    (_image(), _info(**{"format-specific": {"data": {"data-file": "/dev/sda"}}}),
     "refers to another file"),
    (_image(disk_format="iso"), _info(), "cannot be created from"),
    (_image(os_hash_algo="md4-nope"), _info(), "unknown algorithm"),
])
def test_bad_images_are_refused_and_removed(tmp_path, image, execute, match):
    dest = tmp_path / "img"
    with pytest.raises(ImageUnacceptable, match=match):
        imagecopy.download(_fetch(), image, str(dest), execute=execute)
    assert not dest.exists()


def test_vhd_maps_to_qemu_vpc(tmp_path):
    image = _image(disk_format="vhd")
    assert imagecopy.download(_fetch(), image, str(tmp_path / "i"),
                              execute=_info(format="vpc")) == "vpc"


def test_fetch_errors_cancel_and_timeout(tmp_path):
    def broken(image_id):
        yield b"abc"
        raise ConnectionError("image API went away")

    with pytest.raises(ImageError, match="went away"):
        imagecopy.download(broken, _image(), str(tmp_path / "a"), execute=_info())
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        imagecopy.download(_fetch(), _image(), str(tmp_path / "b"), cancel=cancel,
                           execute=_info())
    with pytest.raises(ImageError, match="longer than"):
        imagecopy.download(_fetch(), _image(), str(tmp_path / "c"), timeout=-1,
                           execute=_info())
    assert list(tmp_path.iterdir()) == []


def test_upload_raw_streams_and_qcow2_converts_first(tmp_path):
    source = tmp_path / "volume"
    source.write_bytes(b"v" * 10_000)
    got = {}
    upload = lambda image_id, chunks: got.__setitem__(image_id, b"".join(chunks))  # noqa: E731
    raw = _image(disk_format="raw")
    imagecopy.upload_volume(upload, raw, str(source), lambda: open(source, "rb"),
                            str(tmp_path / "work"))
    assert got[raw["id"]] == b"v" * 10_000

    argvs = []

    def convert(argv, **kwargs):
        argvs.append(argv)
        with open(argv[-1], "wb") as out:
            out.write(b"QFI\xfbconverted")
        return ""

    qcow = _image()
    imagecopy.upload_volume(upload, qcow, str(source), None, str(tmp_path / "work"),
                            execute=convert)
    assert argvs[0][:6] == ["qemu-img", "convert", "-f", "raw", "-O", "qcow2"]
    assert got[qcow["id"]] == b"QFI\xfbconverted"
    assert list((tmp_path / "work").iterdir()) == []  # the qcow2 copy is gone

    def failing(image_id, chunks):
        raise ConnectionError("413 too large")

    with pytest.raises(ImageError, match="413"):
        imagecopy.upload_volume(failing, raw, str(source), lambda: open(source, "rb"),
                                str(tmp_path / "work"))
