"""images: the image service's tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:14:46.437045
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _image_fk() -> sa.Column:
    return sa.Column('image_id', sa.String(length=36),
                     sa.ForeignKey('images.id', ondelete='CASCADE'), nullable=False)


def upgrade() -> None:
    op.create_table(
        'images',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('visibility', sa.String(length=9), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('virtual_size', sa.BigInteger(), nullable=True),
        sa.Column('checksum', sa.String(length=32), nullable=True),
        sa.Column('os_hash_algo', sa.String(length=64), nullable=True),
        sa.Column('os_hash_value', sa.String(length=128), nullable=True),
        sa.Column('disk_format', sa.String(length=20), nullable=True),
        sa.Column('container_format', sa.String(length=20), nullable=True),
        sa.Column('min_disk', sa.Integer(), nullable=False),
        sa.Column('min_ram', sa.Integer(), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        sa.Column('os_hidden', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        for column in ('created_at', 'name', 'owner', 'status', 'visibility'):
            batch_op.create_index(f'ix_images_{column}', [column], unique=False)

    op.create_table(
        'image_members',
        _image_fk(),
        sa.Column('member', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('image_id', 'member'),
    )
    with op.batch_alter_table('image_members', schema=None) as batch_op:
        batch_op.create_index('ix_image_members_member', ['member'], unique=False)

    op.create_table(
        'image_properties',
        _image_fk(),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('image_id', 'name'),
    )
    op.create_table(
        'image_tags',
        _image_fk(),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('image_id', 'value'),
    )


def downgrade() -> None:
    op.drop_table('image_tags')
    op.drop_table('image_properties')
    op.drop_table('image_members')
    op.drop_table('images')
