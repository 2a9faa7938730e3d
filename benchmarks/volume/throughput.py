"""Sequential throughput inside a guest through iSCSI vs dd on the backing file.

Boots one stratus-tiny guest (the compute agent's libvirt driver, QEMU/TCG here), exports
a volume (file backend, tgt, CHAP) and hot-plugs it. The guest's user-data watcher then
runs ``dd`` on /dev/vdb: write MB MiB of zeros with fsync, drop its page cache, read them
back. The same sequence runs on the host against the volume's backing file. The ratio
host/guest is the data path's overhead (virtio-blk -> QEMU -> libiscsi -> TCP -> tgtd ->
file; under TCG the guest's own CPU emulation is part of it). Also times the hot-plug:
attach call -> the guest sees the disk, and detach -> the guest released it.

Run as root under the VM lock:
  flock /tmp/stratus-vm.lock python benchmarks/volume/throughput.py [--mb 256] [--out F]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import libvirt  # noqa: E402

from agents.compute import conf as compute_conf  # noqa: E402
from agents.compute import libvirt_disk, paths  # noqa: E402
from agents.compute.libvirt_driver import LibvirtDriver  # noqa: E402
from agents.compute.model import ImageRef  # noqa: E402
from agents.volume.chap import ChapKeys  # noqa: E402
from agents.volume.file_driver import FileDriver  # noqa: E402
from agents.volume.manager import VolumeManager  # noqa: E402
from agents.volume.tgt import TgtHelper  # noqa: E402
from common.context import RequestContext  # noqa: E402
from tests.functional.volume_agent import guests  # noqa: E402
from tests.unit.volume_agent.helpers import RecordingServer, backend_conf  # noqa: E402

IMAGE = os.environ.get("STRATUS_GUEST_IMAGE", "/var/lib/stratus/guest/stratus-tiny.qcow2")
CTX = RequestContext.admin()
LOCAL = {"host": "bench", "ip": "127.0.0.1", "initiator": None}
DD_LINE = r"VOLTEST {n} dd mb=(\d+) write_s=([\d.]+),([\d.]+) read_s=([\d.]+),([\d.]+)"
FILE_DISK = ("<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none' "
             "io='native'/><source file='{path}'/><target dev='vdb' bus='virtio'/></disk>")


def host_dd(path: str, mb: int) -> dict[str, float]:
    """The guest's sequence on the backing file: write+fsync, then read (warm and cold)."""
    started = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mb}",
                    "conv=fsync,notrunc"], check=True, capture_output=True)
    write = time.monotonic() - started
    started = time.monotonic()
    subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M", f"count={mb}"], check=True,
                   capture_output=True)
    read_warm = time.monotonic() - started
    # iflag=nocache with count=0 drops this file's pages only (not the whole cache).
    subprocess.run(["dd", f"if={path}", "iflag=nocache", "count=0"], check=True,
                   capture_output=True)
    started = time.monotonic()
    subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M", f"count={mb}"], check=True,
                   capture_output=True)
    read_cold = time.monotonic() - started
    return {"write_mbps": round(mb / write, 1), "read_mbps": round(mb / read_warm, 1),
            "read_cold_mbps": round(mb / read_cold, 1)}


def guest_dd(compute, instance_uuid: str, n: int) -> dict[str, float]:
    """The guest's dd figures for its n-th disk (MB/s)."""
    log = guests.wait_console(compute, instance_uuid, f"VOLTEST {n} dd", timeout=1800)
    mb, w0, w1, r0, r1 = re.search(DD_LINE.format(n=n), log).groups()
    return {"write_mbps": round(int(mb) / (float(w1) - float(w0)), 1),
            "read_mbps": round(int(mb) / (float(r1) - float(r0)), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="stratus-volbench-"))
    os.chmod(work, 0o755)  # QEMU's user traverses the instances directory
    backend = backend_conf(file_path=str(work / "volumes"),
                           target_prefix=f"iqn.2026-12.org.stratus.bench{uuid.uuid4().hex[:6]}:")
    driver = FileDriver(backend)
    driver.check_setup()
    os.chmod(driver.directory, 0o755)  # for the local-file comparison disk
    manager = VolumeManager("bench@file", driver, TgtHelper(backend), RecordingServer(),
                            ChapKeys(str(work / "chap.key")), conversion_dir=str(work / "c"))
    data = Path(IMAGE).read_bytes()
    image = ImageRef(str(uuid.uuid4()), disk_format="qcow2", os_hash_algo="sha512",
                     os_hash_value=hashlib.sha512(data).hexdigest())

    def fetch(image_id):
        yield data

    compute = LibvirtDriver.from_conf(compute_conf.make(overrides={
        "instances_path": str(work / "instances"), "virt_type": "qemu"}), fetch)
    conn = libvirt.open("qemu:///system")
    inst = guests.instance(image, guests.DD_BENCH.format(mb=args.mb), "bench")
    volume_id = str(uuid.uuid4())
    manager.server.add_volume(volume_id)
    manager.create_volume(CTX, {"id": volume_id, "size": max(1, -(-args.mb // 1024) + 1),
                                "source": {"type": "blank"}})
    result: dict = {"mb": args.mb}
    try:
        compute.spawn(inst)
        guests.wait_console(compute, inst.uuid, guests.READY.format(uuid=inst.uuid))
        started = time.monotonic()
        info = manager.initialize_connection(CTX, volume_id, LOCAL)
        xml = guests.attach(conn, paths.domain_name(inst.uuid), info)
        guests.wait_console(compute, inst.uuid, "VOLTEST 1 sectors=")
        result["attach_to_seen_s"] = round(time.monotonic() - started, 2)
        result["guest"] = guest_dd(compute, inst.uuid, 1)
        started = time.monotonic()
        guests.detach(conn, paths.domain_name(inst.uuid), xml)
        manager.terminate_connection(CTX, volume_id, LOCAL)
        result["detach_s"] = round(time.monotonic() - started, 2)
        # The same file as a local virtio disk: what the guest gets without iSCSI, so the
        # iSCSI hop's own share of the overhead shows (under TCG most of it is the CPU).
        guests.wait_console(compute, inst.uuid, "VOLTEST 1 gone")
        xml = FILE_DISK.format(path=driver.local_path(volume_id))
        conn.lookupByName(paths.domain_name(inst.uuid)).attachDeviceFlags(
            xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        result["guest_local_file"] = guest_dd(compute, inst.uuid, 2)
        conn.lookupByName(paths.domain_name(inst.uuid)).detachDeviceFlags(
            xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        result["host"] = host_dd(driver.local_path(volume_id), args.mb)
        result["overhead"] = {
            "write": round(result["host"]["write_mbps"] / result["guest"]["write_mbps"], 1),
            "read": round(result["host"]["read_mbps"] / result["guest"]["read_mbps"], 1),
            "iscsi_vs_local_write": round(result["guest_local_file"]["write_mbps"] /
                                          result["guest"]["write_mbps"], 2),
            "iscsi_vs_local_read": round(result["guest_local_file"]["read_mbps"] /
                                         result["guest"]["read_mbps"], 2)}
    finally:
        compute.destroy(inst.uuid)
        libvirt_disk.remove_secret(conn, volume_id)
        manager.delete_volume(CTX, volume_id)
        conn.close()
        shutil.rmtree(work, ignore_errors=True)
    line = json.dumps(result)
    print(line)
    if args.out:
        with open(args.out, "a") as out:
            out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
