"""Every table, imported here so Alembic and the tests see the whole schema."""

from controller.db.base import Base
from controller.db.models import (
    compute,
    hosts,
    identity,
    image,
    network,
    quotas,
    servers,
    services,
    volume,
)

__all__ = ["Base", "compute", "hosts", "identity", "image", "network", "quotas", "servers",
           "services", "volume"]
