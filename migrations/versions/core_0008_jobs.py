"""Background jobs: the core_job table, the truth about every job the queue carries

Revision ID: core_0008
Revises: core_0007
"""
import sqlalchemy as sa
from alembic import op

from core.orm import UTCDateTime

revision = "core_0008"
down_revision = "core_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("record", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.Column("run_after", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], name=op.f("fk_core_job_company_id_core_company")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_job_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_job")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_core_job_idempotency_key")),
    )
    op.create_index(op.f("ix_core_job_company_id"), "core_job", ["company_id"])
    op.create_index(op.f("ix_core_job_kind"), "core_job", ["kind"])
    op.create_index("ix_core_job_status_run_after", "core_job", ["status", "run_after"])
    op.create_index("ix_core_job_user_id_id", "core_job", ["user_id", "id"])
    op.create_index("ix_core_job_record", "core_job", ["record"])


def downgrade() -> None:
    op.drop_table("core_job")
