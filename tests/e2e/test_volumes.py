"""Block storage on real guests with the unmodified `openstack` CLI (issue 5's acceptance).

Two guests run a watcher from their user data that reports every disk hot-plugged as
/dev/vdb on the serial console (its size in sectors and its first line) and, in the
writer, writes a marker onto an empty one. With them: a volume attached to the writer
gets the marker; detached and attached to the reader, the marker is there; a snapshot
and a volume made from it hold the same bytes on the host; an extended volume shows its
new size after a re-attach; a volume made from stratus-tiny boots a third guest with no
local root disk. Deleting an attached volume is refused with Cinder's error; a volume
agent killed while it copies an image leaves the volume error or available, and no
target, LUN or file nobody owns. Project isolation, quotas and bad input get the
documented 4xx (checked on the wire with openstacksdk). Three guests boot under TCG.

Against another cloud than /etc/openstack/clouds.yaml's (``tests/e2e/private_volume_
cloud.py``): OS_CLIENT_CONFIG_FILE, STRATUS_RUN_DIR, STRATUS_VOLUME_PATH,
STRATUS_TARGET_PREFIX and STRATUS_VOLUME_CONVERSION_DIR say where its pieces are.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid

import openstack
import pytest

from tests.e2e import compute_support as host
from tests.e2e.compute_support import BOOT_TIMEOUT, wait_for

VOLUME_PATH = os.environ.get("STRATUS_VOLUME_PATH", "/var/lib/stratus/volumes")
TARGET_PREFIX = os.environ.get("STRATUS_TARGET_PREFIX", "iqn.2026-12.org.stratus:")
CONVERSION_DIR = os.environ.get("STRATUS_VOLUME_CONVERSION_DIR",
                                "/var/lib/stratus/volume-conversion")
READY = "stratus-guest ready: instance-id={id}"
GIB_SECTORS = 2097152

WATCHER = """#!/bin/sh
(
n=0
while :; do
    while [ ! -b /dev/vdb ]; do sleep 0.3; done
    n=$((n+1))
    first=$(dd if=/dev/vdb bs=512 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9-')
    echo "VOLTEST $n sectors=$(cat /sys/block/vdb/size) first=$first"
    {action}
    while [ -b /dev/vdb ]; do sleep 0.3; done
    echo "VOLTEST $n gone"
done
) &
"""
WRITE_MARKER = ("if [ -z \"$first\" ]; then printf '{marker}\\n' >/tmp/marker; "
                "dd if=/tmp/marker of=/dev/vdb bs=512 count=1 conv=sync,fsync 2>/dev/null; "
                "echo \"VOLTEST $n wrote {marker}\"; fi")


def _unique(prefix: str) -> str:
    return f"e2e-{prefix}-{uuid.uuid4().hex[:6]}"


# ------------------------------------------------------------------------- helpers
def _volume(cli, ref: str) -> dict:
    return cli.json("volume", "show", ref)


def _wait_volume(cli, ref: str, *wanted: str, timeout: float = 180) -> dict:
    def probe():
        shown = _volume(cli, ref)
        if shown["status"] in wanted:
            return shown
        if shown["status"].startswith("error") and not any(w.startswith("error")
                                                           for w in wanted):
            raise AssertionError(f"volume {ref} went to {shown['status']}")
        return None
    return wait_for(f"volume {ref} to be {'/'.join(wanted)}", probe, timeout)


def _console(cli, server_id: str) -> str:
    return cli.run("console", "log", "show", server_id).stdout


def _wait_console(cli, server_id: str, text: str, timeout: float = 120) -> str:
    return wait_for(f"{text!r} on the console of {server_id}",
                    lambda: (log := _console(cli, server_id)) and text in log and log,
                    timeout, interval=1)


def _boot(cli, tmp_path, name: str, action: str = "", *source: str) -> dict:
    script = tmp_path / f"{name}.sh"
    script.write_text(WATCHER.format(action=action))
    created = cli.json("server", "create", *(source or ("--image", "stratus-tiny")),
                       "--flavor", "m1.nano", "--nic", "none", "--config-drive", "True",
                       "--user-data", str(script), "--wait", name)
    _wait_console(cli, created["id"], READY.format(id=created["id"]), BOOT_TIMEOUT)
    return created


def _attach(cli, server_id: str, volume_id: str) -> None:
    cli.run("server", "add", "volume", server_id, volume_id)
    _wait_volume(cli, volume_id, "in-use")


def _detach(cli, server_id: str, volume_id: str) -> None:
    cli.run("server", "remove", "volume", server_id, volume_id)
    _wait_volume(cli, volume_id, "available")


def _targets() -> dict:
    from agents.volume.tgt import parse_show

    show = subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"],
                          capture_output=True, text=True, timeout=30, check=True).stdout
    return {iqn: target for iqn, target in parse_show(show).items()
            if iqn.startswith(TARGET_PREFIX)}


def _file(volume_id: str) -> str:
    return os.path.join(VOLUME_PATH, f"volume-{volume_id}")


def _wire(cloud: str):
    return openstack.connect(cloud=cloud)


# ------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cleanup(demo_cli, admin_cli):
    """Deletes what the tests made, whatever happened (servers first, then volumes)."""
    made: dict[str, list[str]] = {"server": [], "snapshot": [], "volume": []}
    yield made
    for server_id in made["server"]:
        demo_cli.run("server", "delete", "--wait", server_id, check=False)
    for snapshot_id in made["snapshot"]:
        admin_cli.run("volume", "snapshot", "delete", snapshot_id, check=False)
    for volume_id in made["volume"]:
        wait_for(f"snapshots of {volume_id} to go", lambda v=volume_id: not admin_cli.json(
            "volume", "snapshot", "list", "--all-projects", "--volume", v), 60)
        admin_cli.run("volume", "delete", "--force", volume_id, check=False)


@pytest.fixture(scope="module")
def guests(demo_cli, tmp_path_factory, cleanup):
    """The writer and the reader, booted once for the module."""
    tmp = tmp_path_factory.mktemp("volume-userdata")
    marker = f"MARKER-{uuid.uuid4().hex[:10]}"
    writer = _boot(demo_cli, tmp, _unique("writer"), WRITE_MARKER.format(marker=marker))
    cleanup["server"].append(writer["id"])
    reader = _boot(demo_cli, tmp, _unique("reader"))
    cleanup["server"].append(reader["id"])
    return {"writer": writer["id"], "reader": reader["id"], "marker": marker}


@pytest.fixture(scope="module")
def data_volume(demo_cli, cleanup):
    volume = demo_cli.json("volume", "create", "--size", "1", _unique("data"))
    cleanup["volume"].append(volume["id"])
    _wait_volume(demo_cli, volume["id"], "available")
    return volume["id"]


# --------------------------------------------------------------------------- tests
def test_a_volume_carries_data_from_one_guest_to_another(demo_cli, guests, data_volume):
    writer, reader, marker = guests["writer"], guests["reader"], guests["marker"]
    _attach(demo_cli, writer, data_volume)
    log = _wait_console(demo_cli, writer, f"VOLTEST 1 wrote {marker}")
    assert f"VOLTEST 1 sectors={GIB_SECTORS} first=\r" in log or \
        f"VOLTEST 1 sectors={GIB_SECTORS} first=\n" in log
    # libvirt's own view: an iSCSI network disk, CHAP through a secret, no password.
    xml = host.virsh("dumpxml", host.domain(writer))
    assert "protocol='iscsi'" in xml and "<secret type='iscsi'" in xml
    shown = demo_cli.json("server", "show", writer)
    assert data_volume in json.dumps(shown["volumes_attached"])
    listed = demo_cli.json("server", "volume", "list", writer)
    assert [(v["Volume ID"], v["Device"]) for v in listed] == [(data_volume, "/dev/vdb")]
    attachment = _volume(demo_cli, data_volume)["attachments"][0]
    assert attachment["server_id"] == writer and attachment["device"] == "/dev/vdb"

    # An attached volume cannot be deleted: Cinder's 400.
    refused = demo_cli.run("volume", "delete", data_volume, check=False)
    assert refused.returncode != 0
    assert "Invalid volume: Volume status must be available or error" in refused.stderr
    assert "400" in refused.stderr  # "(HTTP 400)" or "BadRequestException: 400"

    _detach(demo_cli, writer, data_volume)
    _wait_console(demo_cli, writer, "VOLTEST 1 gone")
    assert "protocol='iscsi'" not in host.virsh("dumpxml", host.domain(writer))
    _attach(demo_cli, reader, data_volume)
    _wait_console(demo_cli, reader, f"VOLTEST 1 sectors={GIB_SECTORS} first={marker}")
    _detach(demo_cli, reader, data_volume)
    _wait_console(demo_cli, reader, "VOLTEST 1 gone")


def test_a_snapshot_and_its_volume_hold_the_same_data(demo_cli, guests, data_volume,
                                                      cleanup):
    snapshot = demo_cli.json("volume", "snapshot", "create", "--volume", data_volume,
                             _unique("snap"))
    cleanup["snapshot"].append(snapshot["id"])
    wait_for("the snapshot", lambda: demo_cli.json("volume", "snapshot", "show",
                                                   snapshot["id"])["status"] == "available",
             120)
    copy = demo_cli.json("volume", "create", "--snapshot", snapshot["id"], _unique("copy"))
    cleanup["volume"].insert(0, copy["id"])
    _wait_volume(demo_cli, copy["id"], "available")
    with open(_file(copy["id"]), "rb") as handle:
        assert handle.read(512).startswith(guests["marker"].encode())
    same = subprocess.run(["cmp", "-s", _file(data_volume), _file(copy["id"])], timeout=120,
                          check=False)
    assert same.returncode == 0, "the volume made from the snapshot differs from its source"


def test_the_guest_sees_an_extended_volume_after_a_re_attach(demo_cli, guests, data_volume):
    demo_cli.run("volume", "set", "--size", "2", data_volume)
    wait_for("the extend", lambda: (v := _volume(demo_cli, data_volume))["size"] == 2 and
             v["status"] == "available", 120)
    _attach(demo_cli, guests["reader"], data_volume)
    _wait_console(demo_cli, guests["reader"],
                  f"VOLTEST 2 sectors={2 * GIB_SECTORS} first={guests['marker']}")
    _detach(demo_cli, guests["reader"], data_volume)


def test_a_server_boots_from_a_volume_made_from_the_image(demo_cli, tmp_path, cleanup):
    boot = demo_cli.json("volume", "create", "--image", "stratus-tiny", "--size", "1",
                         _unique("boot"))
    cleanup["volume"].append(boot["id"])
    assert _wait_volume(demo_cli, boot["id"], "available")["bootable"] in (True, "true")
    server = _boot(demo_cli, tmp_path, _unique("bfv"), "", "--volume", boot["id"])
    cleanup["server"].insert(0, server["id"])
    shown = demo_cli.json("server", "show", server["id"])
    assert shown["image"] in ("", "N/A (booted from volume)")
    assert boot["id"] in json.dumps(shown["volumes_attached"])
    assert _volume(demo_cli, boot["id"])["status"] == "in-use"
    xml = host.virsh("dumpxml", host.domain(server["id"]))
    assert "protocol='iscsi'" in xml and "<target dev='vda' bus='virtio'/>" in xml
    assert not os.path.exists(os.path.join(host.INSTANCES_PATH, server["id"], "disk"))
    refused = demo_cli.run("server", "remove", "volume", server["id"], boot["id"],
                           check=False)
    assert refused.returncode != 0 and "Cannot detach a root device volume" in refused.stderr
    demo_cli.run("server", "delete", "--wait", server["id"])
    _wait_volume(demo_cli, boot["id"], "available")  # detached, kept: not delete_on_term.


def test_a_killed_volume_agent_leaves_no_orphans(demo_cli, cleanup):
    pid_file = os.path.join(host.RUN_DIR, "stratus-volume-agent.child.pid")
    if not os.path.exists(pid_file):
        pytest.skip(f"{pid_file} not found: the volume agent is not supervised here")
    old_pid = int(open(pid_file).read().strip())
    volume = demo_cli.json("volume", "create", "--image", "stratus-tiny", "--size", "1",
                           _unique("killed"))
    cleanup["volume"].append(volume["id"])
    os.kill(old_pid, signal.SIGKILL)  # mid-copy, or just after: both must be clean

    def restarted():
        try:
            pid = int(open(pid_file).read().strip())
        except (OSError, ValueError):
            return None
        return pid if pid != old_pid and os.path.exists(f"/proc/{pid}") else None
    wait_for("supervise.sh to restart the volume agent", restarted, 60)
    status = _wait_volume(demo_cli, volume["id"], "available", "error", timeout=240)["status"]
    assert not any(volume["id"] in iqn for iqn in _targets()), "a target was left"
    assert os.path.exists(_file(volume["id"])) == (status == "available")
    if os.path.isdir(CONVERSION_DIR):
        assert not [f for f in os.listdir(CONVERSION_DIR) if volume["id"] in f]
    demo_cli.run("volume", "delete", volume["id"])
    wait_for("the delete", lambda: volume["id"] not in demo_cli.run(
        "volume", "list", "-f", "value", "-c", "ID").stdout, 120)
    assert not os.path.exists(_file(volume["id"]))
    cleanup["volume"].remove(volume["id"])


def test_isolation_and_bad_input_get_the_documented_4xx(admin_cli, demo_cli, guests,
                                                        cleanup):
    theirs = admin_cli.json("volume", "create", "--size", "1", _unique("admins"))
    cleanup["volume"].append(theirs["id"])
    _wait_volume(admin_cli, theirs["id"], "available")
    snapshot = admin_cli.json("volume", "snapshot", "create", "--volume", theirs["id"],
                              _unique("admin-snap"))
    cleanup["snapshot"].append(snapshot["id"])
    wait_for("the snapshot", lambda: admin_cli.json("volume", "snapshot", "show",
                                                    snapshot["id"])["status"] == "available",
             120)
    demo = _wire("stratus-demo")
    volumes = demo.block_storage
    project = demo.current_project_id

    def create(**body):
        return volumes.post("/volumes", json={"volume": body}, raise_exc=False)

    for body, code, text in (
            ({"size": 0}, 400, "volume/size"),
            ({"size": -1}, 400, "volume/size"),
            ({"size": "lots"}, 400, "volume/size"),
            ({"size": 1, "volume_type": "no-such-type"}, 404, "no-such-type"),
            ({"size": 1, "snapshot_id": snapshot["id"]}, 404, snapshot["id"]),
            ({"size": 1, "imageRef": str(uuid.uuid4())}, 400, "image")):
        response = create(**body)
        assert response.status_code == code, (body, response.text)
        assert text in response.text, (body, response.text)
    assert volumes.get(f"/volumes/{theirs['id']}", raise_exc=False).status_code == 404
    assert theirs["id"] not in demo_cli.run("volume", "list", "-f", "value", "-c",
                                            "ID").stdout
    assert theirs["id"] in admin_cli.run("volume", "list", "--all-projects", "-f", "value",
                                         "-c", "ID").stdout
    attach = demo.compute.post(f"/servers/{guests['writer']}/os-volume_attachments",
                               json={"volumeAttachment": {"volumeId": theirs["id"]}},
                               raise_exc=False)
    assert attach.status_code == 404, attach.text
    assert project and _volume(admin_cli, theirs["id"])["status"] == "available"


def test_quotas_are_enforced_with_413(admin_cli):
    name = _unique("quota")
    password = uuid.uuid4().hex
    project = admin_cli.json("project", "create", name)
    admin_cli.run("user", "create", "--project", name, "--password", password, name)
    admin_cli.run("role", "add", "--project", name, "--user", name, "member")
    made = []
    try:
        admin_cli.run("quota", "set", "--volumes", "1", "--gigabytes", "2", name)
        conn = openstack.connect(cloud="stratus-admin").connect_as(
            username=name, password=password, project_name=name,
            user_domain_id="default", project_domain_id="default")
        first = conn.block_storage.post("/volumes", json={"volume": {"size": 1}})
        made.append(first.json()["volume"]["id"])
        second = conn.block_storage.post("/volumes", json={"volume": {"size": 1}},
                                         raise_exc=False)
        assert second.status_code == 413, second.text
        assert "Maximum number of volumes allowed (1) exceeded" in second.text
        admin_cli.run("quota", "set", "--volumes", "5", name)
        big = conn.block_storage.post("/volumes", json={"volume": {"size": 3}},
                                      raise_exc=False)
        assert big.status_code == 413 and "gigabytes" in big.text, big.text
    finally:
        for volume_id in made:
            _wait_volume(admin_cli, volume_id, "available")
            admin_cli.run("volume", "delete", volume_id, check=False)
        admin_cli.run("user", "delete", name, check=False)
        admin_cli.run("project", "delete", project["id"], check=False)
