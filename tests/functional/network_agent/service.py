"""The real network service for the agents' tests: API app (also served over HTTP for
the metadata proxy), SQLite, the agent RPC server on the test run's exchange and topics.
"""

from __future__ import annotations

import base64
import dataclasses
import random
import threading
import uuid
from typing import Any

from werkzeug.serving import make_server

from common.context import RequestContext
from controller.api.app import create_app
from controller.db import base as db_base
from controller.db import migration
from controller.db.models.servers import Instance
from controller.identity import bootstrap
from controller.identity.fernet import KeyRepository
from controller.network import rpc_server
from controller.runtime import Runtime
from tests.functional import support
from tests.functional.network_agent.netenv import SECRET, NetEnv


class Api:
    """/network/v2.0 as one user."""

    def __init__(self, cloud, token):
        self.cloud, self.token = cloud, token

    def __call__(self, method, path, body=None, status=200):
        response = self.cloud.client.open(f"/network/v2.0{path}", method=method, json=body,
                                          headers={"X-Auth-Token": self.token})
        assert response.status_code == status, (method, path, response.get_json())
        return response.get_json()


def run_service(env: NetEnv, tmp) -> Any:
    """Yields a support.Cloud whose agent RPC and notifications use env's topics."""
    overrides = env.overrides()
    conf = support.make_conf(
        f"sqlite:///{tmp}/stratus.sqlite", str(tmp / "keys"),
        messaging=overrides["messaging"], network_rpc=overrides["network_rpc"],
        metadata={"shared_secret": SECRET}, DEFAULT={"host": f"controller-{env.suffix}"})
    rt = Runtime.from_conf(conf)
    migration.sync(rt.db)
    KeyRepository(str(tmp / "keys")).setup()
    bootstrap.run(rt, bootstrap.Options(admin_password="admin-pw", demo_password="demo-pw",
                                        public_url="http://127.0.0.1:8770"))
    app = create_app(conf, rt)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    env.metadata_url = f"http://127.0.0.1:{http.server_port}/metadata"
    env.rpc_server = rpc_server.start(rt)
    cloud = support.Cloud(app.test_client(), rt, {})
    try:
        yield cloud
    finally:
        http.shutdown()
        db_base.reset()


def new_instance(rt, project_id: str, name: str, user_data: str | None = None) -> str:
    """An instance row, as the compute API writes it, for the metadata API to serve."""
    instance = str(uuid.uuid4())
    with rt.db.session() as session:
        session.add(Instance(uuid=instance, project_id=project_id, user_id="u",
                             display_name=name, hostname=name, flavor_id="1",
                             flavor={"name": "m1.nano"}, availability_zone="nova",
                             user_data=base64.b64encode(user_data.encode()).decode()
                             if user_data else None))
    return instance


def set_user_data(rt, instance: str, script: str) -> None:
    with rt.db.session() as session:
        session.get(Instance, instance).user_data = base64.b64encode(script.encode()).decode()


def guest_port(vif):
    return {"id": vif["id"], "mac_address": vif["mac"], "mtu": vif["mtu"],
            "fixed_ips": vif["fixed_ips"]}


@dataclasses.dataclass
class World:
    """What a user builds through the Network API: a public network, a private one
    behind a router, the default group opened to ICMP."""

    admin: Api
    demo: Api
    public: dict
    private: dict
    subnet: dict
    router: dict
    group: dict
    octet: int

    @property
    def project(self) -> str:
        return self.private["project_id"]

    @property
    def ctx(self) -> RequestContext:
        return RequestContext(project_id=self.project, roles=["member"])


def build_world(env: NetEnv, cloud: Any, cidr: str = "10.20.0.0/24") -> World:
    admin, demo = Api(cloud, cloud.admin()), Api(cloud, cloud.demo())
    octet = random.randrange(16, 250)
    public = admin("POST", "/networks", {"network": {
        "name": f"public-{env.suffix}", "router:external": True,
        "provider:network_type": "flat", "provider:physical_network": "public"}},
        201)["network"]
    admin("POST", "/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                          "cidr": f"172.31.{octet}.0/24",
                                          "enable_dhcp": False}}, 201)
    private = demo("POST", "/networks", {"network": {"name": "private"}}, 201)["network"]
    subnet = demo("POST", "/subnets", {"subnet": {"network_id": private["id"],
                                                  "ip_version": 4, "cidr": cidr}},
                  201)["subnet"]
    router = demo("POST", "/routers", {"router": {
        "name": "r1", "external_gateway_info": {"network_id": public["id"]}}}, 201)["router"]
    demo("PUT", f"/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    group = demo("GET", "/security-groups?name=default")["security_groups"][0]
    demo("POST", "/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp"}}, 201)
    return World(admin, demo, public, private, subnet, router, group, octet)


def destroy_world(world: World) -> None:
    """Floating IPs, router and networks go (ports of instances must be gone first)."""
    demo = world.demo
    for item in demo("GET", "/floatingips")["floatingips"]:
        demo("DELETE", f"/floatingips/{item['id']}", status=204)
    demo("PUT", f"/routers/{world.router['id']}/remove_router_interface",
         {"subnet_id": world.subnet["id"]})
    demo("DELETE", f"/routers/{world.router['id']}", status=204)
    demo("DELETE", f"/networks/{world.private['id']}", status=204)
    world.admin("DELETE", f"/networks/{world.public['id']}", status=204)
