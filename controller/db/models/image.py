"""Image service tables: images, their custom properties, tags and members."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from controller.db.base import Base, utcnow

IMAGE_ID = sa.String(36)  # Glance IDs are dashed UUIDs


class Image(Base):
    """One image record; its bytes live in the image store under the same ID."""

    __tablename__ = "images"
    id: orm.Mapped[str] = orm.mapped_column(IMAGE_ID, primary_key=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="queued", index=True)
    visibility: orm.Mapped[str] = orm.mapped_column(sa.String(9), default="shared", index=True)
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)
    size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    virtual_size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    checksum: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    os_hash_algo: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    os_hash_value: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    disk_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    container_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    min_disk: orm.Mapped[int] = orm.mapped_column(default=0)
    min_ram: orm.Mapped[int] = orm.mapped_column(default=0)
    protected: orm.Mapped[bool] = orm.mapped_column(default=False)
    os_hidden: orm.Mapped[bool] = orm.mapped_column(default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow, index=True)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)

    properties: orm.Mapped[list[ImageProperty]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    tags: orm.Mapped[list[ImageTag]] = orm.relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


class ImageProperty(Base):
    """A custom (non-base) image property: Glance stores every value as a string."""

    __tablename__ = "image_properties"
    image_id: orm.Mapped[str] = orm.mapped_column(
        IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")


class ImageTag(Base):
    __tablename__ = "image_tags"
    image_id: orm.Mapped[str] = orm.mapped_column(
        IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class ImageMember(Base):
    """A project an image is shared with, and whether that project accepted it."""

    __tablename__ = "image_members"
    image_id: orm.Mapped[str] = orm.mapped_column(
        IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    member: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default="pending")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
