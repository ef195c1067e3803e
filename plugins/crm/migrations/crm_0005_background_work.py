"""crm: resumable lead imports and marked SLA breaches

A lead import runs as a background job: its upload keeps the plan fixed when the import started
(the lines to import, the rows with problems, the possible duplicates left out), how many lines of
the plan are imported and how many leads that made, and when it finished, so that a job that runs
again resumes where the last one committed instead of importing a row twice.

A ticket keeps when the scheduled SLA check first found it past a due time it did not meet.

Revision ID: crm_0005
Revises: crm_0004
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

from core import UTCDateTime

revision = "crm_0005"
down_revision = "crm_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_lead_upload") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("created", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("finished_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("crm_lead_upload") as batch:
        batch.alter_column("done", existing_type=sa.Integer(), existing_nullable=False, server_default=None)
        batch.alter_column("created", existing_type=sa.Integer(), existing_nullable=False, server_default=None)
    with op.batch_alter_table("crm_ticket") as batch:
        batch.add_column(sa.Column("sla_breached_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_ticket") as batch:
        batch.drop_column("sla_breached_at")
    with op.batch_alter_table("crm_lead_upload") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("created")
        batch.drop_column("done")
        batch.drop_column("plan")
