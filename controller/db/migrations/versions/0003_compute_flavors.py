"""compute: flavors, flavor extra specs and access, key pairs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _flavor_fk() -> sa.Column:
    return sa.Column('flavor_id', sa.String(length=255),
                     sa.ForeignKey('flavors.id', ondelete='CASCADE'), nullable=False)


def upgrade() -> None:
    op.create_table(
        'flavors',
        sa.Column('id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('memory_mb', sa.Integer(), nullable=False),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('root_gb', sa.Integer(), nullable=False),
        sa.Column('ephemeral_gb', sa.Integer(), nullable=False),
        sa.Column('swap', sa.Integer(), nullable=False),
        sa.Column('rxtx_factor', sa.Float(), nullable=False),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('flavors', schema=None) as batch_op:
        batch_op.create_index('ix_flavors_is_public', ['is_public'], unique=False)

    op.create_table(
        'flavor_extra_specs',
        _flavor_fk(),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('flavor_id', 'key'),
    )
    op.create_table(
        'flavor_projects',
        _flavor_fk(),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('flavor_id', 'project_id'),
    )
    with op.batch_alter_table('flavor_projects', schema=None) as batch_op:
        batch_op.create_index('ix_flavor_projects_project_id', ['project_id'], unique=False)

    op.create_table(
        'key_pairs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=10), nullable=False),
        sa.Column('fingerprint', sa.String(length=255), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'name', name='uq_key_pairs_user_id_name'),
    )
    with op.batch_alter_table('key_pairs', schema=None) as batch_op:
        batch_op.create_index('ix_key_pairs_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('key_pairs')
    op.drop_table('flavor_projects')
    op.drop_table('flavor_extra_specs')
    op.drop_table('flavors')
