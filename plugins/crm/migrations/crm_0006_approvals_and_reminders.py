"""crm: an opportunity's requested discount and the due reminder of an activity

An opportunity carries the discount its salesperson asks for (a percentage, 15.00 for 15 %), which
an approval rule may read. An activity keeps when its assignee was told that it fell due, so the
scheduled reminder tells them once, however often it runs.

Revision ID: crm_0006
Revises: crm_0005
Create Date: 2026-12-07 18:30:00
"""
import sqlalchemy as sa
from alembic import op

from core import Percent, UTCDateTime

revision = "crm_0006"
down_revision = "crm_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.add_column(sa.Column("discount", Percent(scale=2, precision=5), nullable=False, server_default="0"))
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.alter_column("discount", existing_type=Percent(scale=2, precision=5), existing_nullable=False,
                           server_default=None)
    with op.batch_alter_table("crm_activity") as batch:
        batch.add_column(sa.Column("due_notified_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_activity") as batch:
        batch.drop_column("due_notified_at")
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.drop_column("discount")
