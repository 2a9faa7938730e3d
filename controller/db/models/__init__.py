"""Every table, imported here so Alembic and the tests see the whole schema."""

from controller.db.base import Base
from controller.db.models import (
    block_devices,
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

__all__ = ["Base", "block_devices", "compute", "hosts", "identity", "image", "network",
           "quotas", "servers", "services", "volume"]
