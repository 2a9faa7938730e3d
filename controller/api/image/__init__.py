"""Image v2 (Glance-compatible), served under /image."""

import flask

from controller.api import faults

bp = flask.Blueprint("image", __name__, url_prefix="/image")
faults.install(bp, faults.glance_fault)

# Importing the handler modules registers their routes on bp.
from controller.api.image import (  # noqa: E402,F401
    actions,
    data,
    images,
    members,
    schemas,
    tags,
    versions,
)
