"""One real guest walked through its whole life with the unmodified `openstack` CLI.

Booting under TCG costs seconds, so the module boots one server (plus one from its
snapshot) and checks every step against libvirt's own view of the domain, not only the
API's answer.
"""

from __future__ import annotations

import urllib.parse
import uuid

import openstack
import pytest
import websocket

from tests.e2e import compute_support as host
from tests.e2e.compute_support import BOOT_TIMEOUT, wait_for

READY = "stratus-guest ready: instance-id={id}"


@pytest.fixture(scope="module")
def resize_flavor(admin_cli):
    """A bigger public flavor to resize to: more memory, vCPUs and root disk."""
    name = f"e2e-big-{uuid.uuid4().hex[:6]}"
    admin_cli.run("flavor", "create", "--public", "--ram", "160", "--disk", "2",
                  "--vcpus", "2", name)
    yield name
    admin_cli.run("flavor", "delete", name, check=False)


@pytest.fixture(scope="module")
def server(demo_cli, tmp_path_factory):
    """vm1: booted once for the whole module with a user-data script; deleted at the end."""
    marker = f"e2e-userdata-{uuid.uuid4().hex[:8]}"
    user_data = tmp_path_factory.mktemp("userdata") / "script.sh"
    user_data.write_text(f"#!/bin/sh\necho {marker}\n")
    name = f"e2e-vm1-{uuid.uuid4().hex[:6]}"
    created = demo_cli.json("server", "create", "--image", "stratus-tiny", "--flavor",
                            "m1.nano", "--nic", "none", "--user-data", str(user_data),
                            "--wait", name)
    info = {"id": created["id"], "name": name, "marker": marker}
    yield info
    demo_cli.run("server", "delete", "--wait", info["id"], check=False)


def _show(cli, server_id: str) -> dict:
    return cli.json("server", "show", server_id)


def _status(cli, server_id: str, wanted: str, timeout: float = 180) -> dict:
    def probe():
        shown = _show(cli, server_id)
        if shown["status"] == "ERROR":
            raise AssertionError(f"server {server_id} went to ERROR: {shown.get('fault')}")
        return shown if shown["status"] == wanted and not shown.get(
            "OS-EXT-STS:task_state") else None
    return wait_for(f"server {server_id} to be {wanted}", probe, timeout)


def _console(cli, server_id: str) -> str:
    return cli.run("console", "log", "show", server_id).stdout


def _ready_count(cli, server_id: str) -> int:
    return _console(cli, server_id).count(READY.format(id=server_id))


def _wait_ready(cli, server_id: str, at_least: int = 1) -> str:
    return wait_for(f"guest {server_id} to print its ready line {at_least} time(s)",
                    lambda: _ready_count(cli, server_id) >= at_least and
                    _console(cli, server_id), BOOT_TIMEOUT, interval=2)


def test_boot_reaches_active_with_a_real_guest(demo_cli, server):
    shown = _show(demo_cli, server["id"])
    assert shown["status"] == "ACTIVE"
    assert host.domain_state(server["id"]) == "running"
    assert host.qemu_running(server["id"])
    console = _wait_ready(demo_cli, server["id"])
    assert READY.format(id=server["id"]) in console
    assert server["marker"] in console  # the user-data script ran


def test_openstacksdk_sees_the_server_and_its_console(server):
    conn = openstack.connect(cloud="stratus-demo")
    found = conn.compute.get_server(server["id"])
    assert found.status == "ACTIVE" and found.name == server["name"]
    assert server["id"] in [s.id for s in conn.compute.servers()]
    output = conn.compute.get_server_console_output(server["id"])["output"]
    assert READY.format(id=server["id"]) in output


def _websocket(url: str) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=20, subprotocols=["binary"])


def test_novnc_console_speaks_rfb_once(demo_cli, server):
    url = demo_cli.json("console", "url", "show", "--novnc", server["id"])["url"]
    parsed = urllib.parse.urlparse(url)
    token = urllib.parse.parse_qs(urllib.parse.parse_qs(parsed.query)["path"][0]
                                  .lstrip("?"))["token"][0]
    ws_url = f"ws://{parsed.netloc}/?token={token}"
    console = _websocket(ws_url)
    try:
        assert console.recv().startswith(b"RFB 003.")  # the guest's real VNC server
    finally:
        console.close()
    with pytest.raises(websocket.WebSocketBadStatusException):
        _websocket(ws_url)  # tokens are single use


def test_serial_console_reaches_the_guest_shell(demo_cli, server):
    url = demo_cli.json("console", "url", "show", "--serial", server["id"])["url"]
    console = _websocket(url)
    marker = f"serial-{uuid.uuid4().hex[:8]}"
    try:
        console.send_binary(f"\necho {marker}-$((6*7))\n".encode())
        seen = b""
        while f"{marker}-42".encode() not in seen:
            seen += console.recv()
    finally:
        console.close()


def test_stop_and_start(demo_cli, server):
    demo_cli.run("server", "stop", server["id"])
    _status(demo_cli, server["id"], "SHUTOFF")
    assert host.domain_state(server["id"]) == "shut off"
    demo_cli.run("server", "start", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    _wait_ready(demo_cli, server["id"], at_least=2)


def test_soft_and_hard_reboot(demo_cli, server):
    before = _ready_count(demo_cli, server["id"])
    demo_cli.run("server", "reboot", "--soft", "--wait", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    _wait_ready(demo_cli, server["id"], at_least=before + 1)
    demo_cli.run("server", "reboot", "--hard", "--wait", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    _wait_ready(demo_cli, server["id"], at_least=before + 2)


def test_pause_and_unpause(demo_cli, server):
    demo_cli.run("server", "pause", server["id"])
    _status(demo_cli, server["id"], "PAUSED")
    assert host.domain_state(server["id"]) == "paused"
    demo_cli.run("server", "unpause", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"


def test_suspend_and_resume(demo_cli, server):
    demo_cli.run("server", "suspend", server["id"])
    _status(demo_cli, server["id"], "SUSPENDED")
    assert host.domain_state(server["id"]) == "shut off"
    assert host.has_managed_save(server["id"])
    demo_cli.run("server", "resume", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    assert not host.has_managed_save(server["id"])


def test_resize_revert_then_confirm(demo_cli, server, resize_flavor):
    old_memory, old_vcpus = host.domain_size(server["id"])
    old_disk = host.root_disk_virtual_size(server["id"])
    demo_cli.run("server", "resize", "--flavor", resize_flavor, "--wait", server["id"])
    _status(demo_cli, server["id"], "VERIFY_RESIZE")
    assert host.domain_size(server["id"]) == (160, 2)
    assert host.root_disk_virtual_size(server["id"]) == 2 * 1024 ** 3
    assert host.domain_state(server["id"]) == "running"

    demo_cli.run("server", "resize", "revert", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_size(server["id"]) == (old_memory, old_vcpus)
    assert host.root_disk_virtual_size(server["id"]) == old_disk
    assert host.domain_state(server["id"]) == "running"

    demo_cli.run("server", "resize", "--flavor", resize_flavor, "--wait", server["id"])
    _status(demo_cli, server["id"], "VERIFY_RESIZE")
    demo_cli.run("server", "resize", "confirm", server["id"])
    shown = _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_size(server["id"]) == (160, 2)
    assert resize_flavor in str(shown["flavor"])


def test_rebuild_gives_a_fresh_boot(demo_cli, server):
    before = _ready_count(demo_cli, server["id"])
    demo_cli.run("server", "rebuild", "--image", "stratus-tiny", "--wait", server["id"])
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    _wait_ready(demo_cli, server["id"], at_least=before + 1)


def test_snapshot_boots(demo_cli, server, resize_flavor):
    snapshot = f"{server['name']}-snap"
    demo_cli.run("server", "image", "create", "--name", snapshot, "--wait", server["id"])
    image = demo_cli.json("image", "show", snapshot)
    assert image["status"] == "active" and image["disk_format"] == "qcow2"
    _status(demo_cli, server["id"], "ACTIVE")
    assert host.domain_state(server["id"]) == "running"
    # The snapshot carries the resized 2 GiB root disk, so it needs the bigger flavor.
    vm2 = demo_cli.json("server", "create", "--image", snapshot, "--flavor", resize_flavor,
                        "--nic", "none", "--wait", f"{server['name']}-from-snap")
    try:
        assert host.domain_state(vm2["id"]) == "running"
        _wait_ready(demo_cli, vm2["id"])
    finally:
        demo_cli.run("server", "delete", "--wait", vm2["id"])
        demo_cli.run("image", "delete", snapshot)
    assert host.leftovers(vm2["id"]) == []


def test_instance_actions_record_every_request(demo_cli, server):
    events = demo_cli.json("server", "event", "list", server["id"])
    actions = {event["Action"] for event in events}
    assert {"create", "stop", "start", "reboot", "pause", "unpause", "suspend", "resume",
            "resize", "confirmResize", "revertResize", "rebuild",
            "createImage"} <= actions
    assert all(not event.get("Message") for event in events)  # none failed
    create = [e for e in events if e["Action"] == "create"][0]
    detail = demo_cli.json("server", "event", "show", server["id"], create["Request ID"])
    assert detail["action"] == "create"


def test_delete_leaves_nothing(demo_cli, server):
    demo_cli.run("server", "delete", "--wait", server["id"])
    assert demo_cli.run("server", "show", server["id"], check=False).returncode != 0
    wait_for("the domain and files to go", lambda: host.leftovers(server["id"]) == [],
             timeout=60)
