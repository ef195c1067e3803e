"""party list sorted by city: an index on (active, city, id)

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-24 00:56:00
"""
from alembic import op

revision = 'core_0002'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_party', schema=None) as batch_op:
        batch_op.create_index('ix_core_party_active_city', ['active', 'city', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_party', schema=None) as batch_op:
        batch_op.drop_index('ix_core_party_active_city')
