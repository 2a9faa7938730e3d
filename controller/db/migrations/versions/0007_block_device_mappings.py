"""block device mappings: the volumes servers boot from or have attached

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_device_mappings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('destination_type', sa.String(length=32), nullable=False),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=True),
    sa.Column('boot_index', sa.Integer(), nullable=True),
    sa.Column('device_name', sa.String(length=255), nullable=True),
    sa.Column('disk_bus', sa.String(length=32), nullable=True),
    sa.Column('device_type', sa.String(length=32), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=True),
    sa.Column('attachment_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['instances.uuid'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_uuid', 'device_name', name='uq_bdm_instance_device'),
    sa.UniqueConstraint('instance_uuid', 'volume_id', name='uq_bdm_instance_volume'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('block_device_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_block_device_mappings_instance_uuid'),
                              ['instance_uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_block_device_mappings_volume_id'),
                              ['volume_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('block_device_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_block_device_mappings_volume_id'))
        batch_op.drop_index(batch_op.f('ix_block_device_mappings_instance_uuid'))
    op.drop_table('block_device_mappings')
