"""An isolated all-in-one cloud for the end-to-end tests, next to the running one.

``python -m tests.e2e.private_cloud up DIR`` starts, from this tree, the daemons a
server on a network needs (API, scheduler, conductor, console proxy, compute agent,
OVS, DHCP, L3 and metadata agents) under ``tools/lib/supervise.sh``, with everything of
their own: SQLite database, token keys, RabbitMQ vhost ``stratus-test`` with a private
exchange and private topics, host name (so the running cloud's compute agent never
touches its guests), integration/external/tunnel bridges ``bi-/bx-/bt-<suffix>`` (the
host is the external network's gateway, 172.30.N.1), ports, instances and DHCP
directories. It bootstraps identity, registers ``stratus-tiny`` and ``m1.nano``, makes
the ``public`` external network, and writes ``DIR/env``: source it, then run
``tests/e2e/test_networking.py`` (it reads OS_CLIENT_CONFIG_FILE, STRATUS_RUN_DIR and
STRATUS_E2E_*) exactly as against the all-in-one of ``tools/stack.sh``.

``up --force-config-drive`` gives every guest a config drive, as the all-in-one does
by default (without it guests read their metadata over 169.254.169.254 only).

``python -m tests.e2e.private_cloud down DIR`` stops those daemons (only them, by the
PIDs they recorded), removes their guests, namespaces, dnsmasq processes, bridges and
RabbitMQ queues, and the directory.
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid

from tests import processes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(os.environ.get("STRATUS_VENV", "/opt/stratus/venv"), "bin")
SUPERVISE = os.path.join(REPO, "tools", "lib", "supervise.sh")
IMAGE = os.environ.get("STRATUS_GUEST_IMAGE", "/var/lib/stratus/guest/stratus-tiny.qcow2")
TRANSPORT = os.environ.get("STRATUS_TEST_TRANSPORT_URL",
                           "rabbit://guest:guest@127.0.0.1:5672/stratus-test")
DAEMONS = ("stratus-api", "stratus-scheduler", "stratus-conductor", "stratus-console-proxy",
           "stratus-compute-agent", "stratus-ovs-agent", "stratus-dhcp-agent",
           "stratus-l3-agent", "stratus-metadata-agent")
CONTROLLERS = 4  # DAEMONS[:4] start first
RPC_TOPICS = {"conductor": ("topic",), "scheduler": ("topic",), "compute_rpc": ("topic",),
              "network_rpc": ("server_topic", "ovs_topic", "dhcp_topic", "l3_topic"),
              "volume_rpc": ("agent_topic", "server_topic")}


def _run(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          **kwargs)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _wait_log(path: str, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.3)
    raise SystemExit(f"{path} does not say {text!r} after {timeout}s")


def _ini(groups: dict[str, dict[str, object]]) -> str:
    return "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
                   for group, values in groups.items())


def _settings(root: str) -> dict:
    with open(os.path.join(root, "settings.json")) as handle:
        return json.load(handle)


def _config(root: str, s: dict) -> dict[str, dict[str, object]]:
    topics = {group: {name: f"e2e-{group}-{name}-{s['suffix']}" for name in names}
              for group, names in RPC_TOPICS.items()}
    api = f"http://127.0.0.1:{s['api_port']}"
    return {
        "DEFAULT": {"host": s["host"], "state_path": f"{root}/state"},
        "logging": {"log_dir": f"{root}/log"},
        "messaging": {"transport_url": TRANSPORT,
                      "control_exchange": f"stratus-e2e-{s['suffix']}"},
        **topics,
        "database": {"connection": f"sqlite:///{root}/state/stratus.sqlite"},
        "api": {"bind_host": "127.0.0.1", "bind_port": s["api_port"],
                "public_endpoint": api, "workers": 2},
        "fernet_tokens": {"key_repository": f"{root}/fernet-keys"},
        "identity": {"password_hash_rounds": 4},
        "service": {"report_interval": 5},
        "compute": {"virt_type": "qemu", "instances_path": f"{root}/instances",
                    "ram_allocation_ratio": 1.0, "reserved_host_memory_mb": 0,
                    "serial_port_range": s["serial_range"], "shutdown_timeout": 5,
                    "force_config_drive": s["force_config_drive"]},
        "service_auth": {"auth_url": f"{api}/identity/v3", "username": "stratus",
                         "password": s["service_password"], "project_name": "service",
                         "user_domain_id": "default", "project_domain_id": "default"},
        "metadata": {"shared_secret": s["secret"], "nova_metadata_url": f"{api}/metadata"},
        "console": {"serialproxy_host": "127.0.0.1", "serialproxy_port": s["serial_port"],
                    "novncproxy_host": "127.0.0.1", "novncproxy_port": s["novnc_port"],
                    "serialproxy_base_url": f"ws://127.0.0.1:{s['serial_port']}/",
                    "novncproxy_base_url": f"http://127.0.0.1:{s['novnc_port']}/"
                                           "vnc_lite.html"},
        "ovs": {"integration_bridge": s["bridges"]["int"],
                "tunnel_bridge": s["bridges"]["tun"],
                "bridge_mappings": f"public:{s['bridges']['ex']}"},
        "dhcp_agent": {"state_dir": f"{root}/dhcp"},
    }


def _cli(root: str, cloud: str, *args: str) -> str:
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": f"{root}/clouds.yaml", "OS_CLOUD": cloud}
    return _run(["openstack", *args], env=env).stdout


def _clouds(s: dict) -> str:
    out = "clouds:\n"
    for cloud, user, password in (("stratus-admin", "admin", s["admin_password"]),
                                  ("stratus-demo", "demo", s["demo_password"])):
        out += (f"  {cloud}:\n    auth:\n"
                f"      auth_url: http://127.0.0.1:{s['api_port']}/identity/v3\n"
                f"      username: {user}\n      password: {password}\n"
                f"      project_name: {user}\n      user_domain_id: default\n"
                f"      project_domain_id: default\n    region_name: RegionOne\n"
                "    identity_api_version: 3\n    interface: public\n")
    return out


def up(root: str, force_config_drive: bool = False) -> None:
    """Start the private cloud in root (a new directory)."""
    os.makedirs(root, exist_ok=False)
    os.chmod(root, 0o755)  # QEMU reaches the disks under it by path
    for sub in ("state", "log", "run", "instances", "dhcp"):
        os.makedirs(f"{root}/{sub}")
    os.chmod(f"{root}/dhcp", 0o755)  # dnsmasq runs as nobody
    suffix = uuid.uuid4().hex[:6]
    octet = random.randrange(100, 200)
    first_serial = random.randrange(30000, 39000, 100)
    s = {"suffix": suffix, "host": f"e2e-{suffix}", "api_port": _free_port(),
         "serial_port": _free_port(), "novnc_port": _free_port(),
         "serial_range": f"{first_serial}:{first_serial + 99}",
         "bridges": {"int": f"bi-{suffix}", "ex": f"bx-{suffix}", "tun": f"bt-{suffix}"},
         "public_cidr": f"172.30.{octet}.0/24", "gateway": f"172.30.{octet}.1",
         "secret": uuid.uuid4().hex, "admin_password": uuid.uuid4().hex[:16],
         "demo_password": uuid.uuid4().hex[:16], "service_password": uuid.uuid4().hex[:16],
         "force_config_drive": force_config_drive}
    with open(f"{root}/settings.json", "w") as handle:
        json.dump(s, handle)
    conf = f"{root}/stratus.conf"
    with open(conf, "w") as handle:
        handle.write(_ini(_config(root, s)))
    _run([f"{VENV_BIN}/python", "-m", "agents.network.ovs_setup"])
    ex = s["bridges"]["ex"]
    _run(["ovs-vsctl", "--may-exist", "add-br", ex, "--", "set", "Bridge", ex,
          "datapath_type=netdev", "fail_mode=secure"])
    _run(["ip", "addr", "replace", f"{s['gateway']}/24", "dev", ex])
    _run(["ip", "link", "set", ex, "up"])
    manage = [f"{VENV_BIN}/stratus-manage", "--config-file", conf]
    _run([*manage, "db", "sync"])
    _run([*manage, "fernet", "setup"])
    _run([*manage, "bootstrap", "--admin-password", s["admin_password"],
          "--demo-password", s["demo_password"], "--service-password", s["service_password"],
          "--public-url", f"http://127.0.0.1:{s['api_port']}"])
    env = {**os.environ, "STRATUS_RUN_DIR": f"{root}/run", "STRATUS_LOG_DIR": f"{root}/log"}
    for index, daemon in enumerate(DAEMONS):
        if index == CONTROLLERS:
            # An agent's first call would be lost before the conductor's queues exist.
            _wait_log(f"{root}/log/stratus-conductor.log", "started on host")
        subprocess.Popen(["bash", SUPERVISE, daemon, f"{VENV_BIN}/{daemon}", "--config-file",
                          conf], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    _wait_port(s["api_port"])
    with open(f"{root}/clouds.yaml", "w") as handle:
        handle.write(_clouds(s))
    _cli(root, "stratus-admin", "image", "create", "--public", "--disk-format", "qcow2",
         "--container-format", "bare", "--file", IMAGE, "stratus-tiny")
    _cli(root, "stratus-admin", "flavor", "create", "--public", "--ram", "128", "--disk", "1",
         "--vcpus", "1", "m1.nano")
    _cli(root, "stratus-admin", "network", "create", "--external", "--provider-network-type",
         "flat", "--provider-physical-network", "public", "public")
    _cli(root, "stratus-admin", "subnet", "create", "--network", "public", "--subnet-range",
         s["public_cidr"], "--no-dhcp", "--gateway", s["gateway"], "public-subnet")
    with open(f"{root}/env", "w") as handle:
        handle.write(f"export OS_CLIENT_CONFIG_FILE={root}/clouds.yaml\n"
                     f"export STRATUS_RUN_DIR={root}/run\n"
                     f"export STRATUS_INSTANCES_PATH={root}/instances\n"
                     f"export STRATUS_E2E_PUBLIC_GATEWAY={s['gateway']}\n"
                     f"export STRATUS_E2E_INTEGRATION_BRIDGE={s['bridges']['int']}\n"
                     f"export STRATUS_E2E_DHCP_DIR={root}/dhcp\n")
    print(f"private cloud up: source {root}/env")


def _stop_daemons(root: str) -> None:
    supervisors = []
    for path in glob.glob(f"{root}/run/*.pid"):
        if path.endswith(".child.pid"):
            continue
        try:
            supervisors.append(int(open(path).read().strip()))
        except (OSError, ValueError):
            continue
    for pid in supervisors:
        try:
            os.kill(pid, signal.SIGTERM)  # supervise.sh stops its daemon, then exits
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}")
                                              for p in supervisors):
        time.sleep(0.2)


def _remove_guests(host: str) -> None:
    """Domains tagged with this cloud's host (their metadata owner)."""
    names = _run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"],
                 check=False).stdout.split()
    for name in names:
        if not name.startswith("instance-"):
            continue
        xml = _run(["virsh", "-c", "qemu:///system", "dumpxml", name], check=False).stdout
        if f'host="{host}"' in xml or f"host='{host}'" in xml:
            _run(["virsh", "-c", "qemu:///system", "destroy", name], check=False)
            _run(["virsh", "-c", "qemu:///system", "undefine", "--managed-save", name],
                 check=False)


def _purge_rabbit(s: dict) -> None:
    try:
        import amqp
    except ImportError:
        return
    url = urllib.parse.urlsplit(TRANSPORT)
    listing = _run(["rabbitmqctl", "-q", "-p", url.path.lstrip("/") or "/", "list_queues",
                    "name"], check=False)
    queues = [q for q in listing.stdout.split() if s["suffix"] in q]
    try:
        conn = amqp.Connection(f"{url.hostname}:{url.port or 5672}",
                               userid=url.username or "guest",
                               password=url.password or "guest",
                               virtual_host=url.path.lstrip("/") or "/")
        conn.connect()
        channel = conn.channel()
        for queue in queues:
            channel.queue_delete(queue)
        topics = [f"e2e-{g}-{n}-{s['suffix']}" for g, names in RPC_TOPICS.items()
                  for n in names]
        for exchange in [f"stratus-e2e-{s['suffix']}", *(f"{t}_fanout" for t in topics)]:
            channel.exchange_delete(exchange)
        conn.close()
    except Exception as exc:  # noqa: BLE001 - leftovers in RabbitMQ are untidy, not wrong
        print(f"could not purge RabbitMQ: {exc}", file=sys.stderr)


def down(root: str) -> None:
    """Stop the private cloud in root and remove everything it made."""
    s = _settings(root)
    _stop_daemons(root)
    _remove_guests(s["host"])
    from agents.network import ip_lib, namespaces

    mark = namespaces.marker(s["bridges"]["int"])
    for ns in ip_lib.list_namespaces():
        if ns.startswith((namespaces.DHCP_PREFIX, namespaces.ROUTER_PREFIX)) and \
                namespaces.read_marker(ns) == mark:
            _run(["ip", "netns", "del", ns], check=False)
    for pid in processes.pids("dnsmasq", f"{root}/dhcp"):
        os.kill(pid, signal.SIGKILL)
    for bridge in s["bridges"].values():
        _run(["ovs-vsctl", "--if-exists", "del-br", bridge], check=False)
    _purge_rabbit(s)
    shutil.rmtree(root, ignore_errors=True)
    print("private cloud down")


def main(argv: list[str]) -> int:
    force = "--force-config-drive" in argv
    args = [arg for arg in argv if arg != "--force-config-drive"]
    if len(args) != 2 or args[0] not in ("up", "down"):
        print(__doc__)
        return 2
    if args[0] == "up":
        up(os.path.abspath(args[1]), force_config_drive=force)
    else:
        down(os.path.abspath(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
