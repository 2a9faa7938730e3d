"""Network v2.0 (Neutron-compatible), served under /network.

Errors come back as {"NeutronError": {"type", "message", "detail"}}, the type being
Neutron's exception name (NetworkNotFound, IpAddressInUse, OverQuota...).
"""

import flask

from controller.api import faults

bp = flask.Blueprint("network", __name__, url_prefix="/network")
faults.install(bp, faults.neutron_fault)

# Importing the handler modules registers their routes on bp.
from controller.api.network import (  # noqa: E402,F401
    agents,
    availability,
    extensions,
    floating_ips,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    subnets,
    versions,
)
