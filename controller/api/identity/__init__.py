"""Identity v3 (Keystone-compatible), served under /identity."""

import flask

from controller.api import faults

bp = flask.Blueprint("identity", __name__, url_prefix="/identity")
faults.install(bp, faults.keystone_fault)

# Importing the handler modules registers their routes on bp.
from controller.api.identity import (  # noqa: E402,F401
    app_credentials,
    assignments,
    auth,
    catalog,
    domains,
    groups,
    projects,
    roles,
    users,
    versions,
)
