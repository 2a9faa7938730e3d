"""create_app(conf): the one WSGI application behind every control-plane API."""

from __future__ import annotations

import dataclasses
import logging
import time

import flask
from oslo_config import cfg

from common import messaging
from common.context import current_request_id, is_valid_request_id, new_request_id
from controller.api import faults, validation
from controller.identity.tokens import TokenService
from controller.policy import Enforcer
from controller.runtime import Runtime

LOG = logging.getLogger("stratus.api.access")


@dataclasses.dataclass
class ApiState:
    """What handlers reach through `current_app.config["STRATUS"]`."""

    rt: Runtime
    tokens: TokenService
    policy: Enforcer


def state() -> ApiState:
    return flask.current_app.config["STRATUS"]


def create_app(conf: cfg.ConfigOpts, rt: Runtime | None = None) -> flask.Flask:
    """Build the API application for conf; each service is a blueprint under its prefix."""
    from controller.api import compute, identity, image, metadata, network, volume

    # A request never waits on a dead bus: it fails with a 503 the client may retry.
    conf.set_default("send_retry", messaging.API_RETRY, group="messaging")
    rt = rt or Runtime.from_conf(conf)
    app = flask.Flask("stratus")
    app.json.sort_keys = False
    app.json.compact = True
    app.config["MAX_CONTENT_LENGTH"] = None  # JSON bodies are limited in validation.json_body
    app.config["STRATUS"] = ApiState(rt=rt, tokens=TokenService(rt), policy=Enforcer(conf))
    app.url_map.strict_slashes = False

    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.register_blueprint(identity.bp)
    app.register_blueprint(image.bp)
    app.register_blueprint(compute.bp)
    app.register_blueprint(network.bp)
    app.register_blueprint(metadata.bp)
    app.register_blueprint(volume.bp)
    faults.install_app(app)

    @app.get("/")
    def root():
        base = conf.api.public_endpoint.rstrip("/")
        return {"services": {"identity": f"{base}/identity", "image": f"{base}/image",
                             "compute": f"{base}/compute", "network": f"{base}/network",
                             "volume": f"{base}/volume"}}

    return app


def _start_request():
    state().tokens.cache.begin_request()
    flask.g.started = time.monotonic()
    flask.g.request_id = new_request_id()
    current_request_id.set(flask.g.request_id)
    incoming = flask.request.headers.get("X-OpenStack-Request-ID")
    flask.g.global_request_id = incoming if is_valid_request_id(incoming) else None
    validation.reject_nul_in_url()


def _end_request(_error) -> None:
    state().tokens.cache.end_request()


def _finish_request(response: flask.Response) -> flask.Response:
    response.headers["X-OpenStack-Request-ID"] = flask.g.get("request_id", "-")
    elapsed = (time.monotonic() - flask.g.get("started", time.monotonic())) * 1000
    LOG.info("%s %s %s %.1fms global=%s", flask.request.method, flask.request.full_path.rstrip("?"),
             response.status_code, elapsed, flask.g.get("global_request_id") or "-")
    return response
