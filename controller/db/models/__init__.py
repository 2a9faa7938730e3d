"""Every table, imported here so Alembic and the tests see the whole schema."""

from controller.db.base import Base
from controller.db.models import compute, identity, image, services

__all__ = ["Base", "compute", "identity", "image", "services"]
