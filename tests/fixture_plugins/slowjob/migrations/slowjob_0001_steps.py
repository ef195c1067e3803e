"""slowjob: steps and ticks

Revision ID: slowjob_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "slowjob_0001"
down_revision = None
branch_labels = ("slowjob",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "slowjob_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run", sa.String(length=40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slowjob_step")),
    )
    op.create_index(op.f("ix_slowjob_step_run"), "slowjob_step", ["run"])
    op.create_table(
        "slowjob_tick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slowjob_tick")),
    )
    op.create_index(op.f("ix_slowjob_tick_job_id"), "slowjob_tick", ["job_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_slowjob_tick_job_id"), table_name="slowjob_tick")
    op.drop_table("slowjob_tick")
    op.drop_index(op.f("ix_slowjob_step_run"), table_name="slowjob_step")
    op.drop_table("slowjob_step")
