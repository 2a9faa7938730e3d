"""The unmodified `openstack` CLI and openstacksdk against a real stratus-api: servers,
server groups, quotas, compute services, hypervisors, events and limits.

No conductor runs here (the API casts to an exchange of its own), so servers stay BUILD
until an admin resets their state.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
import sqlalchemy as sa

from tests.functional.image.stratus_cloud import CLIError

HOST = f"cli-compute-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def booted(stratus_cloud, tmp_path_factory):
    """A flavor, the stratus-tiny image and one server booted by demo."""
    cli = stratus_cloud.openstack
    cli("flavor", "create", "--ram", "64", "--disk", "1", "--vcpus", "1", "m1.cli")
    image_file = tmp_path_factory.mktemp("img") / "tiny.img"
    image_file.write_bytes(b"\0" * 65536)
    cli("image", "create", "--file", str(image_file), "--disk-format", "raw",
        "--container-format", "bare", "--public", "stratus-tiny")
    server = cli("server", "create", "--image", "stratus-tiny", "--flavor", "m1.cli",
                 "--nic", "none", "--property", "role=test", "vm1", user="demo")
    return server


def _quota(output):
    """`quota show` prints resource rows (or a dict, depending on the OSC version)."""
    if isinstance(output, list):
        return {row["Resource"]: row["Limit"] for row in output}
    return output


def _db(stratus_cloud):
    return sa.create_engine(f"sqlite:///{stratus_cloud.root}/stratus.sqlite")


def test_server_create_list_show(stratus_cloud, booted):
    cli = stratus_cloud.openstack
    assert booted["name"] == "vm1" and booted["status"] == "BUILD"
    listed = {row["Name"]: row for row in cli("server", "list", user="demo")}
    assert listed["vm1"]["Status"] == "BUILD" and listed["vm1"]["ID"] == booted["id"]
    assert "vm1" not in {row["Name"] for row in cli("server", "list")}  # admin's project
    assert "vm1" in {row["Name"] for row in cli("server", "list", "--all-projects")}
    shown = cli("server", "show", "vm1", user="demo")
    assert shown["id"] == booted["id"] and shown["status"] == "BUILD"
    assert shown["properties"] == {"role": "test"}
    long = cli("server", "list", "--long", user="demo")
    assert long[0]["Task State"] == "scheduling"
    stratus_cloud.add_user("outsider", "outsider-pw")
    with pytest.raises(CLIError, match="No Server found|404"):
        cli("server", "show", booted["id"], user="outsider")


def test_server_set_events_and_delete(stratus_cloud, booted):
    cli = stratus_cloud.openstack
    cli("server", "set", "--name", "vm1-renamed", "vm1", user="demo", json_out=False)
    with pytest.raises(CLIError, match="409|vm_state building"):
        cli("server", "set", "--property", "k=v", "vm1-renamed", user="demo",
            json_out=False)
    cli("server", "set", "--state", "active", "--auto-approve", booted["id"],
        json_out=False)
    cli("server", "set", "--property", "k=v", "vm1-renamed", user="demo", json_out=False)
    shown = cli("server", "show", "vm1-renamed", user="demo")
    assert shown["properties"] == {"role": "test", "k": "v"} and shown["status"] == "ACTIVE"
    events = cli("server", "event", "list", "vm1-renamed", user="demo")
    assert {event["Action"] for event in events} == {"create", "resetState"}
    cli("server", "stop", "vm1-renamed", user="demo", json_out=False)
    assert cli("server", "show", "vm1-renamed", user="demo")[
        "OS-EXT-STS:task_state"] == "powering-off"
    cli("server", "delete", "vm1-renamed", user="demo", json_out=False)
    assert cli("server", "show", "vm1-renamed", user="demo")[
        "OS-EXT-STS:task_state"] == "deleting"


def test_server_groups(stratus_cloud):
    cli = stratus_cloud.openstack
    group = cli("server", "group", "create", "--policy", "anti-affinity", "g1", user="demo")
    assert group["name"] == "g1" and group["policies"] == ["anti-affinity"]
    assert "g1" in {row["Name"] for row in cli("server", "group", "list", user="demo")}
    assert cli("server", "group", "show", "g1", user="demo")["id"] == group["id"]
    cli("server", "group", "delete", "g1", user="demo", json_out=False)
    assert "g1" not in {row["Name"] for row in cli("server", "group", "list", user="demo")}


def test_quotas_and_limits(stratus_cloud, booted):
    cli = stratus_cloud.openstack
    assert _quota(cli("quota", "show", "demo"))["instances"] == 10
    cli("quota", "set", "--instances", "20", "--cores", "30", "demo", json_out=False)
    updated = _quota(cli("quota", "show", "demo"))
    assert (updated["instances"], updated["cores"]) == (20, 30)
    with pytest.raises(CLIError, match="403|Forbidden|not authorized"):
        cli("quota", "set", "--instances", "99", "demo", user="demo", json_out=False)
    limits = {row["Name"]: row["Value"]
              for row in cli("limits", "show", "--absolute", user="demo")}
    assert limits["max_total_instances"] == 20 and limits["total_instances_used"] >= 1
    assert limits["total_cores_used"] >= 1 and limits["total_ram_used"] >= 64


def test_compute_services_and_hypervisors(stratus_cloud):
    cli = stratus_cloud.openstack
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    engine = _db(stratus_cloud)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO services (uuid, host, binary, topic, availability_zone, disabled, "
            "forced_down, report_count, last_seen_at, created_at) VALUES (:u, :h, "
            "'stratus-compute-agent', 'stratus-compute', 'nova', 0, 0, 1, :t, :t)"),
            {"u": str(uuid.uuid4()), "h": HOST, "t": now})
        conn.execute(sa.text(
            "INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, hypervisor_type, "
            "hypervisor_version, vcpus, memory_mb, local_gb, free_disk_gb, "
            "reserved_host_memory_mb, reserved_host_disk_gb, cpu_allocation_ratio, "
            "ram_allocation_ratio, disk_allocation_ratio, generation, created_at, "
            "updated_at) VALUES (:u, :h, :h, 'QEMU', 8002000, 4, 8192, 50, 45, 512, 0, 4.0, "
            "1.0, 1.0, 0, :t, :t)"), {"u": str(uuid.uuid4()), "h": HOST, "t": now})
    engine.dispose()
    services = {row["Host"]: row for row in cli("compute", "service", "list")}
    assert services[HOST]["Binary"] == "stratus-compute-agent"
    assert (services[HOST]["Status"], services[HOST]["State"]) == ("enabled", "up")
    cli("compute", "service", "set", "--disable", "--disable-reason", "maintenance", HOST,
        "stratus-compute-agent", json_out=False)
    services = {row["Host"]: row for row in cli("compute", "service", "list", "--long")}
    assert services[HOST]["Status"] == "disabled"
    assert services[HOST]["Disabled Reason"] == "maintenance"
    with pytest.raises(CLIError):
        cli("compute", "service", "list", user="demo")
    hypervisors = {row["Hypervisor Hostname"]: row for row in cli("hypervisor", "list")}
    assert hypervisors[HOST]["State"] == "up"
    shown = cli("hypervisor", "show", HOST)
    assert shown["vcpus"] == 4 and shown["memory_mb_used"] == 512


def test_sdk_parses_servers(stratus_cloud, booted):
    conn = stratus_cloud.sdk("demo")
    servers = list(conn.compute.servers())
    assert booted["id"] in [server.id for server in servers]
    server = conn.compute.get_server(booted["id"])
    assert server.flavor.original_name == "m1.cli" and server.flavor.ram == 64
    assert server.image.id and server.created_at.endswith("Z")
    assert server.project_id and server.is_locked is False
    paged = list(conn.compute.servers(limit=1, paginated=True))
    assert len(paged) == len(servers)
