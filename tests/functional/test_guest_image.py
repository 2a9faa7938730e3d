"""Boot the Stratus tiny guest image (tools/build-guest-image.sh) under QEMU/TCG.

The image is built once per session into a temp dir, or taken from
$STRATUS_GUEST_IMAGE. Every boot uses a throw-away qcow2 overlay, so the base
image is never modified. These tests check the guest boot contract that other
functional/e2e tests rely on (see tools/guest/init):

* config drive (label config-2, ISO9660 or vfat, as an IDE cdrom or a virtio
  disk) -> uuid, hostname, public_keys, user_data script output on the console;
* DHCP on every NIC, addresses in the ready line;
* metadata service at 169.254.169.254 when there is no config drive;
* exactly one line ``stratus-guest ready: instance-id=<uuid> addresses=<ips>``;
* ACPI power button -> clean poweroff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "tools" / "build-guest-image.sh"
QEMU = shutil.which("qemu-system-x86_64")
QEMU_IMG = shutil.which("qemu-img")
BOOT_TIMEOUT = 90  # seconds from qemu start to the ready line
READY_RE = re.compile(
    r"^stratus-guest ready: instance-id=(?P<uuid>\S+) addresses=(?P<addrs>\S*)\r?$",
    re.MULTILINE,
)

KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0cmF0dXMtdGVzdC1rZXktb25lLTAxMjM0NTY3 alice@stratus"
KEY2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDc3RyYXR1cy10ZXN0LWtleS10d28tMDEyMzQ1 bob@stratus"

BUSYBOX = shutil.which("busybox")
IP = shutil.which("ip")

needs_qemu = pytest.mark.skipif(
    QEMU is None or QEMU_IMG is None,
    reason="qemu-system-x86_64 / qemu-img not installed "
    "(apt-get install qemu-system-x86 qemu-utils)",
)


# --------------------------------------------------------------------- image
@pytest.fixture(scope="session")
def guest_image(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("STRATUS_GUEST_IMAGE")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            pytest.fail(f"STRATUS_GUEST_IMAGE={prebuilt} does not exist")
        return path
    if os.geteuid() != 0:
        pytest.skip(
            "building the guest image needs root (tools/build-guest-image.sh); "
            "set STRATUS_GUEST_IMAGE to a prebuilt image instead"
        )
    out = tmp_path_factory.mktemp("guest-image") / "stratus-tiny.qcow2"
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, (
        f"build-guest-image.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    assert out.is_file()
    print(f"guest image built in {time.monotonic() - started:.1f} s: {out}")
    return out


@needs_qemu
def test_image_is_small_whole_disk_qcow2(guest_image):
    info = json.loads(
        subprocess.run(
            [QEMU_IMG, "info", "--output=json", str(guest_image)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info["format"] == "qcow2"
    assert "backing-filename" not in info
    assert info["virtual-size"] <= 128 * 1024 * 1024
    assert guest_image.stat().st_size <= 64 * 1024 * 1024


# --------------------------------------------------------------------- guests
class Guest:
    """One qemu-system-x86_64 (TCG) process booting an overlay of the image."""

    def __init__(self, image: Path, workdir: Path, extra_args: list[str]):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.overlay = workdir / "overlay.qcow2"
        subprocess.run(
            [
                QEMU_IMG,
                "create",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "qcow2",
                "-b",
                str(image),
                str(self.overlay),
            ],
            check=True,
        )
        self.console = workdir / "console.log"
        self.qemu_out = workdir / "qemu.out"
        cmd = [
            QEMU,
            "-accel",
            "tcg",
            "-m",
            "128",
            "-nographic",
            "-no-reboot",
            "-drive",
            f"file={self.overlay},if=virtio",
            "-serial",
            f"file:{self.console}",
            "-monitor",
            "stdio",
            *extra_args,
        ]
        self.cmd = cmd
        self.started = time.monotonic()
        with open(self.qemu_out, "wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        try:
            return self.console.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self) -> str:
        try:
            qemu_out = self.qemu_out.read_text(errors="replace")
        except FileNotFoundError:
            qemu_out = ""
        tail = "\n".join(self.log().splitlines()[-60:])
        return (
            f"command: {' '.join(self.cmd)}\nqemu exit: {self.proc.poll()}\n"
            f"qemu output:\n{qemu_out[-2000:]}\n--- console (tail) ---\n{tail}"
        )

    def wait_for(self, regex: re.Pattern, timeout: float = BOOT_TIMEOUT) -> re.Match:
        deadline = self.started + timeout
        while True:
            match = regex.search(self.log())
            if match:
                return match
            if self.proc.poll() is not None:
                pytest.fail(f"qemu exited before {regex.pattern!r}\n{self.describe()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{regex.pattern!r} not seen within {timeout} s\n{self.describe()}")
            time.sleep(0.2)

    def wait_ready(self) -> re.Match:
        match = self.wait_for(READY_RE)
        print(f"ready line after {time.monotonic() - self.started:.1f} s")
        return match

    def powerdown(self, timeout: float = 60) -> float:
        """Press the ACPI power button; return seconds until qemu exited."""
        pressed = time.monotonic()
        self.proc.stdin.write(b"system_powerdown\n")
        self.proc.stdin.flush()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"guest did not power off within {timeout} s\n{self.describe()}")
        return time.monotonic() - pressed

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


@pytest.fixture
def boot(guest_image, tmp_path):
    guests: list[Guest] = []

    def _boot(*extra_args: str) -> Guest:
        guest = Guest(guest_image, tmp_path / f"guest{len(guests)}", list(extra_args))
        guests.append(guest)
        return guest

    yield _boot
    for guest in guests:
        guest.kill()


# --------------------------------------------------------------- config drive
def _write_metadata_tree(root: Path, meta: dict, user_data: str | None) -> Path:
    latest = root / "openstack" / "latest"
    latest.mkdir(parents=True)
    (latest / "meta_data.json").write_text(json.dumps(meta, indent=4) + "\n")
    if user_data is not None:
        (latest / "user_data").write_text(user_data)
    return root


def make_config_drive(workdir: Path, fmt: str, meta: dict, user_data: str) -> Path:
    src = _write_metadata_tree(workdir / "config-drive", meta, user_data)
    if fmt == "iso":
        out = workdir / "config-drive.iso"
        if shutil.which("xorriso"):
            cmd = ["xorriso", "-as", "mkisofs"]
        elif shutil.which("genisoimage"):
            cmd = ["genisoimage"]
        else:
            pytest.skip("neither xorriso nor genisoimage is installed")
        cmd += ["-quiet", "-V", "config-2", "-r", "-J", "-o", str(out), str(src)]
    else:
        if not (shutil.which("mkfs.vfat") and shutil.which("mcopy")):
            pytest.skip("mkfs.vfat (dosfstools) / mcopy (mtools) not installed")
        out = workdir / "config-drive.vfat"
        with open(out, "wb") as f:
            f.truncate(4 * 1024 * 1024)
        subprocess.run(["mkfs.vfat", "-n", "config-2", str(out)], check=True, capture_output=True)
        cmd = ["mcopy", "-s", "-i", str(out), str(src / "openstack"), "::/"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def _instance(name: str) -> tuple[str, str, dict]:
    instance_id = str(uuid.uuid4())
    marker = f"USERDATA-MARKER-{uuid.uuid4().hex[:12]}"
    meta = {
        "uuid": instance_id,
        "name": name,
        "hostname": f"{name}.novalocal",
        "launch_index": 0,
        "availability_zone": "nova",
        "project_id": "5a8c2b6e0a5b4f7c9a2e1d3c4b5a6978",
        "meta": {"role": "test", "nested": {"uuid": "not-this-one"}},
        "public_keys": {"alice": KEY1 + "\n", "bob": KEY2},
        "keys": [{"name": "alice", "type": "ssh", "data": KEY1 + "\n"}],
        "devices": [],
    }
    return instance_id, marker, meta


USER_DATA = textwrap.dedent(
    """\
    #!/bin/sh
    echo {marker}
    echo "hostname=$(hostname)"
    sed 's/^/key: /' /root/.ssh/authorized_keys
    for tool in sh ping wget nc dd mount; do
        command -v $tool >/dev/null || echo "missing: $tool"
    done
    """
)


@needs_qemu
# ide-cdrom: libvirt's default for a cdrom on the i440fx "pc" machine (the
# Debian cloud kernel has no AHCI driver, so a SATA cdrom on q35 is NOT
# supported: use virtio-scsi or a virtio disk there).
@pytest.mark.parametrize(
    "attach", ["ide-cdrom", "virtio-scsi-cdrom", "virtio-disk-iso", "virtio-disk-vfat"]
)
def test_config_drive_without_nic(boot, tmp_path, attach):
    instance_id, marker, meta = _instance("tiny-cd")
    fmt = "vfat" if attach.endswith("vfat") else "iso"
    drive = make_config_drive(tmp_path, fmt, meta, USER_DATA.format(marker=marker))
    if attach == "ide-cdrom":
        drive_args = ["-drive", f"file={drive},format=raw,media=cdrom,if=ide"]
    elif attach == "virtio-scsi-cdrom":
        drive_args = [
            "-device", "virtio-scsi-pci,id=scsi0",
            "-drive", f"file={drive},format=raw,media=cdrom,if=none,id=cd0",
            "-device", "scsi-cd,drive=cd0,bus=scsi0.0",
        ]  # fmt: skip
    else:
        drive_args = ["-drive", f"file={drive},format=raw,if=virtio,readonly=on"]

    guest = boot("-nic", "none", *drive_args)
    ready = guest.wait_ready()
    log = guest.log()

    assert marker in log, guest.describe()
    assert log.index(marker) < ready.start(), "user_data must run before the ready line"
    assert ready["uuid"] == instance_id
    assert ready["addrs"] == ""
    assert len(READY_RE.findall(log)) == 1
    assert re.search(r"^hostname=tiny-cd\r?$", log, re.MULTILINE)
    assert f"key: {KEY1}" in log
    assert f"key: {KEY2}" in log
    assert "missing:" not in log

    if attach == "ide-cdrom":
        took = guest.powerdown()
        print(f"ACPI power button -> poweroff in {took:.1f} s")
        assert "Power down" in guest.log()


@needs_qemu
def test_dhcp_on_every_nic(boot):
    # restrict=on: slirp serves DHCP but forwards nothing off this machine
    # (the guest's metadata request to 169.254.169.254 just times out).
    guest = boot(
        "-nic",
        "user,model=virtio-net-pci,restrict=on",
        "-nic",
        "user,model=virtio-net-pci,restrict=on,net=10.0.3.0/24",
    )
    ready = guest.wait_ready()
    addrs = ready["addrs"].split(",")
    assert "10.0.2.15" in addrs, guest.describe()
    assert "10.0.3.15" in addrs, guest.describe()
    assert ready["uuid"] == "unknown"


MD_RESPONDER = textwrap.dedent(
    """\
    import os, sys
    root, log = sys.argv[1], sys.argv[2]
    request = sys.stdin.buffer.readline().decode("latin-1").split()
    while sys.stdin.buffer.readline() not in (b"\\r\\n", b"\\n", b""):
        pass
    path = request[1] if len(request) > 1 else "/"
    with open(log, "a") as f:
        f.write(path + "\\n")
    target = os.path.realpath(os.path.join(root, path.lstrip("/")))
    if target.startswith(os.path.realpath(root) + os.sep) and os.path.isfile(target):
        body, status = open(target, "rb").read(), "200 OK"
    else:
        body, status = b"not found\\n", "404 Not Found"
    sys.stdout.buffer.write(
        b"HTTP/1.0 " + status.encode() + b"\\r\\nContent-Type: text/plain\\r\\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\\r\\nConnection: close\\r\\n\\r\\n"
        + body
    )
    sys.stdout.flush()
    """
)


@needs_qemu
def test_metadata_service(boot, tmp_path):
    """No config drive: meta_data/user_data come from http://169.254.169.254.

    slirp's guestfwd runs a tiny HTTP responder per connection (stdin/stdout),
    so no socket is opened on the host at all.
    """
    instance_id, marker, meta = _instance("tiny-md")
    root = _write_metadata_tree(tmp_path / "md", meta, USER_DATA.format(marker=marker))
    responder = tmp_path / "md_responder.py"
    responder.write_text(MD_RESPONDER)
    requests_log = tmp_path / "md_requests.log"
    for p in (root, responder, requests_log):
        assert "," not in str(p) and " " not in str(p)
    nic = (
        "user,model=virtio-net-pci,restrict=on,net=169.254.0.0/16,host=169.254.0.2,"
        "dhcpstart=169.254.0.15,"
        f"guestfwd=tcp:169.254.169.254:80-cmd:{sys.executable} {responder} {root} "
        f"{requests_log}"
    )
    guest = boot("-nic", nic)
    ready = guest.wait_ready()
    log = guest.log()
    assert ready["uuid"] == instance_id, guest.describe()
    assert ready["addrs"] == "169.254.0.15"
    assert marker in log and log.index(marker) < ready.start()
    assert re.search(r"^hostname=tiny-md\r?$", log, re.MULTILINE)
    assert f"key: {KEY1}" in log
    requested = requests_log.read_text().split()
    assert requested == [
        "/openstack/latest/meta_data.json",
        "/openstack/latest/user_data",
    ]


# ------------------------------------------------------ udhcpc event script
@pytest.mark.skipif(
    os.geteuid() != 0 or BUSYBOX is None or IP is None,
    reason="needs root, busybox and iproute2 (runs the script in a network namespace)",
)
def test_udhcpc_script_routes_and_dns(tmp_path):
    """tools/guest/udhcpc.script under busybox, in a throw-away netns.

    slirp offers no DHCP option 121, so the classless-static-routes handling
    is checked here by calling the script the way udhcpc does.
    """
    script = REPO / "tools" / "guest" / "udhcpc.script"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for applet in ("sh", "ip", "cat", "mkdir", "cp", "rm", "echo"):
        (bindir / applet).symlink_to(BUSYBOX)
    ns = f"stratus-udhcpc-{os.getpid()}"
    subprocess.run([IP, "netns", "add", ns], check=True)
    try:
        subprocess.run(
            [IP, "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"],
            check=True,
        )

        def event(action: str, **env: str) -> None:
            base = {
                "PATH": str(bindir),
                "interface": "eth0",
                "STRATUS_UDHCPC_STATE": str(tmp_path / "state"),
                "STRATUS_UDHCPC_RESOLV": str(tmp_path / "resolv.conf"),
                "STRATUS_UDHCPC_CONSOLE": str(tmp_path / "console"),
            }
            subprocess.run(
                [
                    IP,
                    "netns",
                    "exec",
                    ns,
                    "env",
                    "-i",
                    *(f"{k}={v}" for k, v in {**base, **env}.items()),
                    BUSYBOX,
                    "sh",
                    str(script),
                    action,
                ],
                check=True,
            )

        def routes() -> str:
            return subprocess.run(
                [IP, "-n", ns, "-4", "route", "show"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout

        event("deconfig")
        event(
            "bound",
            ip="10.20.0.5",
            mask="24",
            broadcast="10.20.0.255",
            router="10.20.0.9",
            staticroutes="169.254.169.254/32 10.20.0.2 0.0.0.0/0 10.20.0.1 10.30.0.0/16 0.0.0.0",
            dns="10.20.0.3 10.20.0.4",
            domain="example.org",
            mtu="1400",
        )
        table = routes()
        # Option 121 present: its routes are used and the router option ignored.
        assert re.search(r"^default via 10\.20\.0\.1 dev eth0", table, re.M), table
        assert "10.20.0.9" not in table
        assert re.search(r"^169\.254\.169\.254 via 10\.20\.0\.2 dev eth0", table, re.M)
        assert re.search(r"^10\.30\.0\.0/16 dev eth0", table, re.M), table
        addr = subprocess.run(
            [IP, "-n", ns, "-4", "addr", "show", "dev", "eth0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "inet 10.20.0.5/24" in addr
        assert "mtu 1400" in addr
        assert (tmp_path / "resolv.conf").read_text() == (
            "search example.org\nnameserver 10.20.0.3\nnameserver 10.20.0.4\n"
        )
        assert (tmp_path / "state" / "eth0").read_text().strip() == "10.20.0.5/24"

        # A new lease without option 121: default route from the router option.
        event("deconfig")
        event("bound", ip="10.20.0.6", mask="24", router="10.20.0.1")
        table = routes()
        assert re.search(r"^default via 10\.20\.0\.1 dev eth0", table, re.M), table
        assert "169.254.169.254" not in table
        assert (tmp_path / "state" / "eth0").read_text().strip() == "10.20.0.6/24"
    finally:
        subprocess.run([IP, "netns", "del", ns], check=False)
