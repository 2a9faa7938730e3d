"""RPC over a real RabbitMQ: the request ID crosses the bus into the server's logs."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest

from common import log, messaging
from common.context import RequestContext, current_request_id
from controller import services
from controller.conductor.manager import ConductorManager
from controller.db import base as db_base
from controller.db import migration
from controller.runtime import Runtime
from tests.functional import support


@pytest.fixture
def rpc_conf(transport_url, tmp_path):
    conf = support.make_conf(f"sqlite:///{tmp_path}/db.sqlite", str(tmp_path / "keys"),
                             messaging={"transport_url": transport_url,
                                        "notification_driver": "messagingv2",
                                        "rpc_timeout": 20},
                             DEFAULT={"host": f"test-{uuid.uuid4().hex[:6]}"})
    yield conf
    messaging.cleanup()
    db_base.reset()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[tuple[str, str]] = []
        self.addFilter(log.RequestIdFilter())

    def emit(self, record):
        self.records.append((record.request_id, record.getMessage()))


def test_request_id_reaches_the_rpc_server_log(rpc_conf):
    rt = Runtime.from_conf(rpc_conf)
    migration.sync(rt.db)
    topic = f"test-conductor-{uuid.uuid4().hex[:8]}"
    server = messaging.rpc_server(rpc_conf, topic, [ConductorManager(rt)])
    capture = _Capture()
    logging.getLogger("controller.conductor.manager").addHandler(capture)
    logging.getLogger("controller.conductor.manager").setLevel(logging.INFO)
    server.start()
    try:
        ctx = RequestContext()
        client = messaging.rpc_client(rpc_conf, topic)
        result: dict[str, str] = {}

        def call():  # a separate thread, so the caller's own context var is not the proof
            current_request_id.set("-")
            result["echo"] = client.call(ctx, "ping", message="hello")

        caller = threading.Thread(target=call)
        caller.start()
        caller.join(30)
        assert result.get("echo") == "hello"
        assert (ctx.request_id, "ping: hello") in capture.records

        client.cast(ctx, "report_state", host=rpc_conf.host, binary="stratus-test-agent")
        for _ in range(100):
            rows = services.list_(rt, binary="stratus-test-agent")
            if rows:
                break
            threading.Event().wait(0.1)
        assert rows and rows[0].up and rows[0].host == rpc_conf.host
    finally:
        server.stop()
        server.wait()
        logging.getLogger("controller.conductor.manager").removeHandler(capture)


def test_services_go_down_after_missing_heartbeats(rpc_conf):
    rpc_conf.set_override("service_down_time", 1, group="service")
    rt = Runtime.from_conf(rpc_conf)
    migration.sync(rt.db)
    services.report(rt, "host-a", "stratus-scheduler")
    assert services.list_(rt)[0].up
    threading.Event().wait(1.2)
    assert not services.list_(rt)[0].up


def test_notifications_are_published(rpc_conf):
    rt = Runtime.from_conf(rpc_conf)
    rt.notify(RequestContext(), "identity.project.created", {"resource_info": "x"})


def test_the_api_gives_up_on_a_dead_bus(tmp_path):
    """In stratus-api a message to a bus that is down fails after a few reconnection
    attempts (the request becomes a 503) instead of hanging the worker; notifications
    are best effort and only logged."""
    from common.rpc.conductor import ConductorAPI
    from controller.api.app import create_app

    conf = support.make_conf(f"sqlite:///{tmp_path}/db.sqlite", str(tmp_path / "keys"),
                             messaging={"transport_url": "rabbit://guest:guest@127.0.0.1:9/",
                                        "notification_driver": "messagingv2"})
    try:
        assert conf.messaging.send_retry == -1  # daemons wait for the bus
        rt = create_app(conf).config["STRATUS"].rt
        assert conf.messaging.send_retry == messaging.API_RETRY
        conf.set_override("send_retry", 1, group="messaging")  # keep the test short
        begun = time.monotonic()
        rt.notify(RequestContext(), "instance.create.start", {"uuid": "x"})
        with pytest.raises(Exception, match="(?i)connect|refused|retr"):
            ConductorAPI(conf).delete_instance(RequestContext(), str(uuid.uuid4()))
        assert time.monotonic() - begun < 30
    finally:
        messaging.cleanup()
        db_base.reset()
