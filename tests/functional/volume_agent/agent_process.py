"""A real stratus-volume-agent process for tests, talking to an in-test service over
RabbitMQ, on a private control exchange AND private topics.

The exchange alone does not keep tests apart: RabbitMQ queues are named after the topic
(``stratus-volume``) and shared by the whole vhost, so an RPC server on the same topic
in another exchange (another test run, the all-in-one's conductor) binds the very same
queue and takes its turn at the messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from agents.volume import conf as volume_conf
from tests.functional.volume_agent.conftest import SESSION_PREFIX

REPO = Path(__file__).resolve().parents[3]


def write_config(workdir: Path, conf, host: str) -> Path:
    """The agent's config file: the bus (exchange and topics) of conf, private dirs."""
    path = workdir / "agent.conf"
    transport_url = conf.messaging.transport_url
    exchange = conf.messaging.control_exchange
    path.write_text(f"""[DEFAULT]
host = {host}
[messaging]
transport_url = {transport_url}
control_exchange = {exchange}
rpc_timeout = 30
[volume_rpc]
agent_topic = {conf.volume_rpc.agent_topic}
server_topic = {conf.volume_rpc.server_topic}
[oslo_messaging_rabbit]
amqp_auto_delete = true
rabbit_transient_queues_ttl = 60
[service]
report_interval = 1
[logging]
debug = false
[volume]
enabled_backends = file
file_path = {workdir}/volumes
image_conversion_dir = {workdir}/conversion
chap_key_file = {workdir}/chap.key
target_prefix = {SESSION_PREFIX}
target_ip_address = 127.0.0.1
capacity_report_interval = 1
[backup]
driver = file
file_path = {workdir}/backups
chunk_size_mb = 8
""")
    return path


class AgentProcess:
    """Start, stop (SIGTERM), kill (SIGKILL) and read the log of one agent process."""

    def __init__(self, config: Path, workdir: Path, env: dict[str, str] | None = None):
        self.config = config
        self.workdir = workdir
        self.env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        log = open(self.workdir / f"agent-{self.runs}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.functional.volume_agent.agent_runner",
             "--config-file", str(self.config)], cwd=REPO, env=self.env, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def log(self) -> str:
        return "".join((self.workdir / f"agent-{n}.log").read_text(errors="replace")
                       for n in range(1, self.runs + 1))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self) -> None:
        if self.alive():
            self.kill()


def unique_host() -> str:
    return f"voltest-{uuid.uuid4().hex[:8]}"


def wait(predicate, timeout: float, what: str, agent: AgentProcess | None = None,
         interval: float = 0.05):
    """Poll predicate until it returns something truthy; fail with the agent log."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = agent.log()[-4000:] if agent else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")
        if agent is not None and not agent.alive():
            raise AssertionError(f"the agent exited while waiting for {what}\n"
                                 f"{agent.log()[-4000:]}")
        time.sleep(interval)


def private_bus(transport_url: str, directory: Path):
    """A conf on a bus nobody else uses (exchange and both topics random), read from a
    file so that oslo.messaging's own options apply too: queues are auto-deleted (fanout
    and reply queues expire after a minute), so the random names do not pile up."""
    tag = uuid.uuid4().hex[:8]
    path = directory / f"bus-{tag}.conf"
    path.write_text(f"""[messaging]
transport_url = {transport_url}
control_exchange = stratus-voltest-{tag}
[volume_rpc]
agent_topic = stratus-volume-agent-{tag}
server_topic = stratus-volume-{tag}
[oslo_messaging_rabbit]
amqp_auto_delete = true
rabbit_transient_queues_ttl = 60
""")
    return volume_conf.make(["--config-file", str(path)])
