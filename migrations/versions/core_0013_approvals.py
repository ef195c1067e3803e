"""Approvals: rules, steps, requests and decisions; the manager of each user

Revision ID: core_0013
Revises: core_0012
"""
import sqlalchemy as sa
from alembic import op

from core.db import Money
from core.orm import UTCDateTime

revision = "core_0013"
down_revision = "core_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_user") as batch:
        batch.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_core_user_manager_id_core_user"), "core_user", ["manager_id"], ["id"],
                                 ondelete="SET NULL")

    op.create_table(
        "core_approval_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_approval_rule_company_id_core_company")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_approval_rule")),
    )
    op.create_index(op.f("ix_core_approval_rule_company_id"), "core_approval_rule", ["company_id"])
    op.create_index(op.f("ix_core_approval_rule_kind"), "core_approval_rule", ["kind"])

    op.create_table(
        "core_approval_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("approver_type", sa.String(length=10), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("parallel", sa.Boolean(), nullable=False),
        sa.Column("amount_limit", Money(), nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["core_approval_rule.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_step_rule_id_core_approval_rule")),
        sa.ForeignKeyConstraint(["role_id"], ["core_role.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_step_role_id_core_role")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_step_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_approval_step")),
    )
    op.create_index(op.f("ix_core_approval_step_rule_id"), "core_approval_step", ["rule_id"])

    op.create_table(
        "core_approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_approval_request_company_id_core_company")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_approval_request_requested_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_approval_request")),
    )
    op.create_index(op.f("ix_core_approval_request_company_id"), "core_approval_request", ["company_id"])
    op.create_index(op.f("ix_core_approval_request_state"), "core_approval_request", ["state"])
    op.create_index("ix_core_approval_request_record", "core_approval_request", ["kind", "record_id"])

    op.create_table(
        "core_approval_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=120), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("approver_type", sa.String(length=10), nullable=False),
        sa.Column("approver_label", sa.String(length=200), nullable=False),
        sa.Column("amount_limit", Money(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["core_approval_request.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_task_request_id_core_approval_request")),
        sa.ForeignKeyConstraint(["rule_id"], ["core_approval_rule.id"], ondelete="SET NULL",
                                name=op.f("fk_core_approval_task_rule_id_core_approval_rule")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_approval_task_decided_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_approval_task")),
    )
    op.create_index(op.f("ix_core_approval_task_request_id"), "core_approval_task", ["request_id"])
    op.create_index(op.f("ix_core_approval_task_state"), "core_approval_task", ["state"])

    op.create_table(
        "core_approval_assignee",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delegated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["core_approval_task.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_assignee_task_id_core_approval_task")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_assignee_user_id_core_user")),
        sa.ForeignKeyConstraint(["delegated_by_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_approval_assignee_delegated_by_id_core_user")),
        sa.PrimaryKeyConstraint("task_id", "user_id", name=op.f("pk_core_approval_assignee")),
    )
    op.create_index(op.f("ix_core_approval_assignee_user_id"), "core_approval_assignee", ["user_id"])

    op.create_table(
        "core_approval_away",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_away_user_id_core_user")),
        sa.ForeignKeyConstraint(["delegate_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_approval_away_delegate_id_core_user")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_core_approval_away")),
    )


def downgrade() -> None:
    op.drop_table("core_approval_away")
    op.drop_table("core_approval_assignee")
    op.drop_table("core_approval_task")
    op.drop_table("core_approval_request")
    op.drop_table("core_approval_step")
    op.drop_table("core_approval_rule")
    with op.batch_alter_table("core_user") as batch:
        batch.drop_constraint(op.f("fk_core_user_manager_id_core_user"), type_="foreignkey")
        batch.drop_column("manager_id")
